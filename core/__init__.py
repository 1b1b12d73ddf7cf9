"""alertmail core: settings, storage, secrets, SMTP dispatcher and command line. No Qt here."""
