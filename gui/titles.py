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
# The password row's label when the server signs in with OAuth 2.0.
CLIENT_SECRET_LABEL = "Client sec&ret:"
# The row of a Google service-account key, and its button.
SERVICE_ACCOUNT_KEY_LABEL = "Service-account &key:"
LOAD_KEY_TEXT = "Load key &file\N{HORIZONTAL ELLIPSIS}"
# Labels of the keyring rows, by the names ``settings.server_fields_shown`` gives them.
KEYRING_ROW_LABELS = {
    "password": PASSWORD_LABEL,
    "client_secret": CLIENT_SECRET_LABEL,
    "service_account_key": SERVICE_ACCOUNT_KEY_LABEL + " " + LOAD_KEY_TEXT,
}
