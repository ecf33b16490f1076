"""Settings with which a production app starts: each test that makes one changes only what it is about."""

SAFE_PRODUCTION = {
    "SECRET_KEY": "b8Jq2vXr9LmT4zKp7WcN1sYd6GhF3uEa0RiO5QwZ",
    "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://tracker@db.example.org/tracker",
    "MAIL_SERVER": "smtp.example.org",
    "MAIL_SENDER": "scrutiny-tracker@example.org",
    "SERVICE_URL": "https://tracker.example.org",
}
