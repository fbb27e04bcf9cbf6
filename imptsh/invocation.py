"""What a command handler works with: the session, the parsed command line, where output
goes, and, created on first use, the auth context, the logged-in client, the account's entity
cache and the identifier for this command."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .api.client import Client
from .cache import EntityCache
from .context import AuthContext
from .errors import CommandError
from .identify import Identifier, RelatedLookup
from .output.printer import Output
from .project import ProjectFile
from .session import Session

if TYPE_CHECKING:  # the command layer above hands these in
    from .commands.spec import Args, Command

Resource = dict[str, Any]


class Invocation:
    def __init__(self, session: Session, command: Command, args: Args, out: Output):
        self.session = session
        self.command = command
        self.args = args
        self.out = out
        self._client: Client | None = None
        self._context: AuthContext | None = None
        self._identifier: Identifier | None = None

    @property
    def context(self) -> AuthContext:
        if self._context is None:
            self._context = self.session.context()
        return self._context

    @property
    def client(self) -> Client:
        if self._client is None:
            self._client = self.session.client(self.out, self.context)
        return self._client

    @property
    def cache(self) -> EntityCache:
        return self.session.cache(self.context)

    def me(self) -> Resource:
        return self.session.me(self.client, self.context)

    @property
    def me_id(self) -> str:
        return str(self.me()["id"])

    @property
    def identifier(self) -> Identifier:
        if self._identifier is None:
            self._identifier = Identifier(self.client, self.cache, self.me)
        return self._identifier

    def related(self, *, bulk: bool) -> RelatedLookup:
        """Related-entity lookup for views: bulk (one list per kind) for lists."""
        return RelatedLookup(self.identifier, bulk=bulk)

    def project(self) -> ProjectFile | None:
        return self.session.project()

    def project_dg(self) -> Resource | None:
        """The Project file's Device Group, or None without a Project file; a vanished group
        is impt's `saved in Project File, does not exist anymore` error."""
        project = self.project()
        if project is None:
            return None
        dg_id = project.device_group_id
        dg = self.identifier.get("dg", dg_id)
        if dg is None:
            raise CommandError(
                f'Device Group "{dg_id}", saved in Project File, does not exist anymore.',
                hints=(
                    "Impossible to execute the command.",
                    'Use "impt project delete" command to delete the outdated Project.',
                ),
            )
        return dg

    def confirm(self, context: str | None = None) -> None:
        """impt's confirmation, skipped by `--confirmed`; raises Canceled on no."""
        if getattr(self.args, "confirmed", False):
            return
        self.session.prompter.confirm(context)
