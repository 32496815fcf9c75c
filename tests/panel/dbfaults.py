"""Real database errors on cue: a trigger that refuses one persona's review rows."""

from django.db import connection

MESSAGE = "database is locked"


def refuse_reviews_of(persona_key: str, message: str = MESSAGE) -> None:
    """Make the database refuse every review row of one persona with `message`."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(sqlite_trigger(persona_key, message))
        else:
            cursor.execute(
                f"""
                CREATE OR REPLACE FUNCTION refuse_review() RETURNS trigger AS $$
                BEGIN
                  IF NEW.persona_id = (SELECT id FROM panel_persona WHERE key = '{persona_key}')
                  THEN RAISE EXCEPTION '{message}'; END IF;
                  RETURN NEW;
                END $$ LANGUAGE plpgsql;
                CREATE TRIGGER refuse_review BEFORE INSERT ON panel_review
                  FOR EACH ROW EXECUTE FUNCTION refuse_review();
                """
            )


def allow_reviews() -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("DROP TRIGGER IF EXISTS refuse_review")
        else:
            cursor.execute("DROP TRIGGER IF EXISTS refuse_review ON panel_review")
            cursor.execute("DROP FUNCTION IF EXISTS refuse_review()")


def sqlite_trigger(persona_key: str, message: str = MESSAGE) -> str:
    return (
        "CREATE TRIGGER refuse_review BEFORE INSERT ON panel_review "
        f"WHEN NEW.persona_id = (SELECT id FROM panel_persona WHERE key = '{persona_key}') "
        f"BEGIN SELECT RAISE(ABORT, '{message}'); END"
    )


def slow_review_inserts_sql(seconds: float) -> str | None:
    """PostgreSQL: hold each review insert open so two writers overlap (None on SQLite)."""
    if connection.vendor == "sqlite":
        return None
    return f"""
        CREATE OR REPLACE FUNCTION slow_review() RETURNS trigger AS $$
        BEGIN PERFORM pg_sleep({seconds}); RETURN NEW; END $$ LANGUAGE plpgsql;
        CREATE TRIGGER slow_review BEFORE INSERT ON panel_review
          FOR EACH ROW EXECUTE FUNCTION slow_review();
    """
