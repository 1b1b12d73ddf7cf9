"""Titles of the dialog, its tabs and the password field, shared by the pages.

They live apart from the page modules so the dialog can name every tab
before it imports the pages it has not built yet.
"""

DIALOG_TITLE = "E-mail Options"
GENERAL_TITLE = "&General"
SERVER_TITLES = {"primary": "Mai&l Server", "secondary": "Se&condary Mail Server"}
# The Queue tab adds the number of pending messages once it has read the queue.
QUEUE_TITLE = "&Queue"
PAGE_TITLES = {"general": GENERAL_TITLE, **SERVER_TITLES, "queue": QUEUE_TITLE}
PASSWORD_LABEL = "Pass&word:"
