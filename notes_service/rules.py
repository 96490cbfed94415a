"""Field rules shared by the browser forms and the API schemas, so both refuse the same input."""

USERNAME_PATTERN = r"^[A-Za-z0-9_.-]+$"
USERNAME_MESSAGE = "Use letters, digits, _ - and . only."
USERNAME_LENGTH = (3, 80)
EMAIL_MAX = 254
PASSWORD_LENGTH = (8, 1024)
TITLE_MAX = 200
CONTENT_MAX = 100_000
TOKEN_NAME_MAX = 100
TOKEN_DAYS_MAX = 3650
