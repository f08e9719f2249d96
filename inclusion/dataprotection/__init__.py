"""Data protection: subject access export, erasure by anonymisation, retention, backup."""

from __future__ import annotations


def init_app(app) -> None:
    """Register the blueprint, the section on the resident page and the CLI commands."""
    from .cli import COMMANDS
    from .forms import ExportForm
    from .views import bp

    app.register_blueprint(bp)
    sections = app.extensions.setdefault("inclusion.resident_sections", [])
    if "dataprotection/_resident_section.html" not in sections:
        sections.append("dataprotection/_resident_section.html")
    app.jinja_env.globals["data_protection_export_form"] = ExportForm
    # The `flask inclusion` group, found on the app (importing inclusion.cli would make
    # data protection depend on every command's imports).
    cli = app.cli.commands["inclusion"]
    for command in COMMANDS:
        if command.name not in cli.commands:
            cli.add_command(command)
