"""Data protection: subject access export, erasure by anonymisation, retention, backup."""

from __future__ import annotations


def init_app(app) -> None:
    """Register the blueprint, the section on the resident page and the CLI commands."""
    from inclusion.registry import registry

    from .cli import COMMANDS
    from .forms import ExportForm
    from .views import bp

    app.register_blueprint(bp)
    reg = registry(app)
    reg.add_resident_section("dataprotection/_resident_section.html")
    reg.add_template_helper("data_protection_export_form", ExportForm)
    for command in COMMANDS:
        reg.add_command(command)
