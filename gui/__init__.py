"""alertmail gui: the E-mail Options dialog."""
