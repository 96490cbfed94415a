"""Browser forms (WTForms), each carrying a CSRF token in the hidden field `csrf_token`.

The CSRF secret lives in Quart's signed session cookie; tokens are HMACs of it with a time limit.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any, Self

from quart import current_app, request, session
from wtforms import (
    BooleanField,
    EmailField,
    Field,
    Form,
    HiddenField,
    IntegerField,
    PasswordField,
    StringField,
    TextAreaField,
)
from wtforms.csrf.core import CSRFTokenField
from wtforms.csrf.session import SessionCSRF
from wtforms.validators import AnyOf, DataRequired, EqualTo, Length, NumberRange, Optional, ValidationError

from ..rules import (
    CONTENT_MAX,
    EMAIL_MAX,
    LINK_TOKEN_MAX,
    PASSWORD_LENGTH,
    TITLE_MAX,
    TOKEN_DAYS_MAX,
    TOKEN_NAME_MAX,
    email_problem,
    password_problem,
    split_tags,
    tags_problem,
    trim,
    username_problem,
)

CSRF_SECRET_KEY = "csrf"  # where wtforms' SessionCSRF keeps the secret in Quart's session


class CSRFForm(Form):
    """A form with nothing but the CSRF token (also used alone for button-only forms)."""

    csrf_token: CSRFTokenField  # added by WTForms from `Meta.csrf`

    class Meta:
        csrf = True
        csrf_class = SessionCSRF
        csrf_field_name = "csrf_token"
        csrf_time_limit = timedelta(hours=12)

        @property
        def csrf_secret(self) -> bytes:
            return str(current_app.secret_key).encode()

        @property
        def csrf_context(self) -> Any:
            return session

    @classmethod
    async def from_request(cls, **data: Any) -> Self:
        """Bind to the POSTed form; on GET, start from `data`."""
        formdata = await request.form if request.method == "POST" else None
        return cls(formdata=formdata, data=data or None)


def renew_csrf_secret() -> None:
    """Forget this browser's CSRF secret (at sign-in and sign-out): the next form gets a new one,
    and every token made from the old one is refused."""
    session.pop(CSRF_SECRET_KEY, None)


def form_status(form: Form) -> int:
    """422 when a submitted form broke a field rule (it is shown again with the errors), else 200."""
    return 422 if form.errors else 200


def text(field: Field) -> str:
    """A text field's value as a string (WTForms types it optional; a validated field has one)."""
    return str(field.data or "")


def _strip(value: str | None) -> str | None:
    return trim(value) if isinstance(value, str) else value


class Rule:
    """A check from rules.py as a WTForms validator (the API runs the same check, same message)."""

    def __init__(self, problem: Callable[[str], str | None]) -> None:
        self.problem = problem

    def __call__(self, _form: Form, field: Field) -> None:
        if (message := self.problem(field.data or "")) is not None:
            raise ValidationError(message)


class RegisterForm(CSRFForm):
    username = StringField("Username", filters=[_strip], validators=[DataRequired(), Rule(username_problem)])
    email = EmailField("Email", filters=[_strip], validators=[DataRequired(), Rule(email_problem)])
    password = PasswordField("Password", validators=[DataRequired(), Rule(password_problem)])
    confirm_password = PasswordField(
        "Confirm password",
        validators=[DataRequired(), EqualTo("password", message="Passwords must match.")],
    )


class LoginForm(CSRFForm):
    email = EmailField("Email", filters=[_strip], validators=[DataRequired(), Length(max=EMAIL_MAX)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=PASSWORD_LENGTH[1])])
    remember = BooleanField("Remember me")


def _tags_problem(text: str) -> str | None:
    """The API's rule for tags (rules.tags_problem), over what was typed in the one field."""
    return tags_problem(split_tags(text))


def tags_text(tags: list[str]) -> str:
    """A note's tags as the form's field shows them."""
    return ", ".join(tags)


class NoteForm(CSRFForm):
    title = StringField("Title", filters=[_strip], validators=[DataRequired(), Length(max=TITLE_MAX)])
    content = TextAreaField("Content", validators=[DataRequired(), Length(max=CONTENT_MAX)])
    # One text field, tags separated by commas or blanks (SPEC §11): works without script.
    tags = StringField(
        "Tags",
        validators=[Rule(_tags_problem)],
        render_kw={
            "autocomplete": "off",
            "spellcheck": "false",
            "placeholder": "work, ideas (commas or spaces)",
        },
    )
    is_pinned = BooleanField("Pin this note")
    # The version the form was opened at: saving over a newer one is refused (SPEC §9).
    version = HiddenField()

    def values(self) -> dict[str, Any]:
        """The note's fields as the notes service takes them."""
        return {
            "title": self.title.data,
            "content": self.content.data,
            "is_pinned": self.is_pinned.data,
            "tags": split_tags(self.tags.data or ""),
        }

    def opened_at(self) -> list[int] | None:
        """The version the person edited, or None (a form from before versions: no check)."""
        value = (self.version.data or "").strip()
        return [int(value)] if value.isascii() and value.isdigit() and len(value) < 19 else None


class PasswordChangeForm(CSRFForm):
    current_password = PasswordField("Current password", validators=[DataRequired()])
    new_password = PasswordField("New password", validators=[DataRequired(), Rule(password_problem)])
    confirm_password = PasswordField(
        "Confirm new password",
        validators=[DataRequired(), EqualTo("new_password", message="Passwords must match.")],
    )


class CodeForm(CSRFForm):
    """A one-time code: 6 digits from the authenticator app, or a recovery code where one is accepted."""

    code = StringField(
        "Code",
        filters=[_strip],
        validators=[DataRequired(), Length(max=64)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "text", "spellcheck": "false"},
    )


class TwoFactorEnableForm(CodeForm):
    """The code for the secret offered, and the password: a session alone cannot turn it on."""

    current_password = PasswordField("Current password", validators=[DataRequired()])


class TwoFactorDisableForm(CodeForm):
    current_password = PasswordField("Current password", validators=[DataRequired()])


class ForgotPasswordForm(CSRFForm):
    email = EmailField("Email", filters=[_strip], validators=[DataRequired(), Length(max=EMAIL_MAX)])


class ResetPasswordForm(CSRFForm):
    token = HiddenField(validators=[DataRequired(), Length(max=LINK_TOKEN_MAX)])
    new_password = PasswordField("New password", validators=[DataRequired(), Rule(password_problem)])
    confirm_password = PasswordField(
        "Confirm new password",
        validators=[DataRequired(), EqualTo("new_password", message="Passwords must match.")],
    )


class ChangeEmailForm(CSRFForm):
    email = EmailField("New email", filters=[_strip], validators=[DataRequired(), Rule(email_problem)])
    current_password = PasswordField("Current password", validators=[DataRequired()])


DELETE_WORD = "DELETE"


class DeleteAccountForm(CSRFForm):
    current_password = PasswordField("Current password", validators=[DataRequired()])
    confirm = StringField(
        f"Type {DELETE_WORD} to confirm",
        validators=[DataRequired(), AnyOf([DELETE_WORD], message=f"Type {DELETE_WORD} to confirm.")],
    )


class TokenForm(CSRFForm):
    name = StringField("Name", filters=[_strip], validators=[DataRequired(), Length(max=TOKEN_NAME_MAX)])
    expires_in_days = IntegerField(
        "Expires in (days)", validators=[Optional(), NumberRange(min=1, max=TOKEN_DAYS_MAX)]
    )
