"""The ``kinerja`` group: its own commands plus those an installed service registers under the
``kinerja.commands`` entry point group (e.g. penilaian's ``scores``), so this library imports no
service."""
from __future__ import annotations

import click

COMMAND_GROUP = "kinerja.commands"


def _installed_commands() -> dict:
    from importlib.metadata import entry_points

    return {ep.name: ep for ep in entry_points(group=COMMAND_GROUP)}


class KinerjaGroup(click.Group):
    """Its own commands plus those installed services register under ``kinerja.commands``
    (loaded only when named or listed)."""

    def list_commands(self, ctx):
        return sorted(set(super().list_commands(ctx)) | set(_installed_commands()))

    def get_command(self, ctx, name):
        command = super().get_command(ctx, name)
        if command is None:
            ep = _installed_commands().get(name)
            if ep is not None:
                command = ep.load()
        return command

    def resolve_command(self, ctx, args):
        try:
            return super().resolve_command(ctx, args)
        except click.UsageError:
            if args and args[0] == "scores":
                raise click.UsageError("'kinerja scores' comes with penilaian, which is not installed here "
                                       "(pip install -e services/penilaian)") from None
            raise
