"""The original: the Flask notes app that notes-service rewrites, reconstructed as it was.

Flask + Flask-Login + Flask-SQLAlchemy on SQLite, served by gunicorn with 2 sync workers. Its API token
is a plaintext column looked up with `User.query.filter_by(api_token=...)`, its note list is
`Note.query.filter_by(author_id=...).all()` turned into JSON with `jsonify`. It is written for the
benchmark from that description; its only job is to be the honest "before" of every ratio, so where
the description is silent it gets the benefit of the doubt: `notes.author_id` is indexed. Without the
index (Flask-SQLAlchemy adds none to a foreign key) every list scans all 10,020 notes and the original
serves about half as many requests, which would flatter the service; with it, the original's share of
the ceiling matches the reference figures in the benchmark issue (~1,460 of ~6,200 req/s). The
database file comes from `BENCH_ORIGINAL_DATABASE`.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from functools import wraps
from typing import Any

from flask import Flask, jsonify, redirect, render_template_string, request, url_for
from flask_login import LoginManager, UserMixin, current_user, login_required, login_user
from flask_sqlalchemy import SQLAlchemy
from werkzeug.security import check_password_hash

DATABASE_VARIABLE = "BENCH_ORIGINAL_DATABASE"
db = SQLAlchemy()
login_manager = LoginManager()
login_manager.login_view = "login"


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class User(UserMixin, db.Model):  # type: ignore[name-defined, misc]
    __tablename__ = "users"

    id = db.Column(db.Integer, primary_key=True)
    username = db.Column(db.String(80), unique=True, nullable=False)
    email = db.Column(db.String(120), unique=True, nullable=False)
    password_hash = db.Column(db.String(256), nullable=False)
    api_token = db.Column(db.String(64), unique=True)
    notes = db.relationship("Note", backref="author", lazy=True)


class Note(db.Model):  # type: ignore[name-defined, misc]
    __tablename__ = "notes"

    id = db.Column(db.Integer, primary_key=True)
    title = db.Column(db.String(200), nullable=False)
    content = db.Column(db.Text, nullable=False)
    is_pinned = db.Column(db.Boolean, default=False, nullable=False)
    created_at = db.Column(db.DateTime, default=utcnow, nullable=False)
    updated_at = db.Column(db.DateTime, default=utcnow, onupdate=utcnow, nullable=False)
    author_id = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=False, index=True)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "content": self.content,
            "is_pinned": self.is_pinned,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
        }


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    return db.session.get(User, int(user_id))


def token_required(view: Any) -> Any:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        token = request.headers.get("x-access-token")
        header = request.headers.get("Authorization", "")
        if header.startswith("Bearer "):
            token = header[len("Bearer ") :]
        if not token:
            return jsonify({"error": "Token is missing"}), 401
        user = User.query.filter_by(api_token=token).first()
        if user is None:
            return jsonify({"error": "Token is invalid"}), 401
        return view(user, *args, **kwargs)

    return wrapper


NOTES_PAGE = """<!doctype html>
<html><head><title>My notes</title></head><body>
<h1>{{ current_user.username }}'s notes</h1>
<ul>{% for note in notes %}
  <li><h2>{{ note.title }}</h2><p>{{ note.content }}</p><small>{{ note.created_at }}</small></li>
{% endfor %}</ul>
</body></html>"""
LOGIN_PAGE = """<!doctype html><form method="post"><input name="email"><input name="password" type="password">
<button>Log in</button></form>"""


def create_app(database_path: str | None = None) -> Flask:
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "original-app-benchmark-secret"
    path = database_path or os.environ[DATABASE_VARIABLE]
    app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{path}"
    db.init_app(app)
    login_manager.init_app(app)

    @app.route("/login", methods=["GET", "POST"])
    def login() -> Any:
        if request.method == "POST":
            user = User.query.filter_by(email=request.form.get("email", "")).first()
            if user and check_password_hash(user.password_hash, request.form.get("password", "")):
                login_user(user)
                return redirect(url_for("list_notes"))
        return render_template_string(LOGIN_PAGE)

    @app.get("/notes")
    @login_required
    def list_notes() -> Any:
        notes = Note.query.filter_by(author_id=current_user.id).order_by(Note.created_at.desc()).all()
        return render_template_string(NOTES_PAGE, notes=notes)

    @app.get("/api/notes")
    @token_required
    def api_notes(user: User) -> Any:
        notes = Note.query.filter_by(author_id=user.id).all()
        return jsonify([note.to_dict() for note in notes])

    @app.post("/api/notes")
    @token_required
    def api_create_note(user: User) -> Any:
        data = request.get_json(silent=True) or {}
        if not data.get("title") or not data.get("content"):
            return jsonify({"error": "Title and content are required"}), 400
        note = Note(title=data["title"], content=data["content"], author_id=user.id)
        db.session.add(note)
        db.session.commit()
        return jsonify(note.to_dict()), 201

    return app


def create_schema(database_path: str) -> None:
    """Create the original's tables in a new SQLite file (the seeder fills them)."""
    app = create_app(database_path)
    with app.app_context():
        db.create_all()
        db.engine.dispose()


app = create_app() if DATABASE_VARIABLE in os.environ else None
