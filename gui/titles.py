"""Titles of the dialog's tabs and of the password field, shared by the pages.

They live apart from the page modules so the dialog can name every tab
before it imports the pages it has not built yet.
"""

GENERAL_TITLE = "&General"
SERVER_TITLES = {"primary": "Mai&l Server", "secondary": "Se&condary Mail Server"}
PAGE_TITLES = {"general": GENERAL_TITLE, **SERVER_TITLES}
PASSWORD_LABEL = "Pass&word:"
