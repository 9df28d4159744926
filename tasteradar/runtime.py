"""What every command needs: the resolved configuration and database path, loaded once per invocation."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from tasteradar.config import Config, find_config, load_config


@dataclass
class Runtime:
    """Options shared by every command (``--config``, ``--db``), resolved lazily.

    A subcommand's own ``--config``/``--db`` overrides the group's, so both
    ``tasteradar --db x.db status`` and ``tasteradar status --db x.db`` work.
    """

    config_path: Path | None = None
    db_path: Path | None = None
    verbose: int = 0
    _config: Config | None = field(default=None, repr=False)

    def config(self) -> Config:
        """Load (once) the configuration found by ``--config``, ``TASTERADAR_CONFIG`` or the working dir."""
        if self._config is None:
            config = load_config(find_config(self.config_path))
            if self.db_path is not None:
                config = config.with_db(self.db_path)
            self._config = config
        return self._config

    def database_path(self) -> Path:
        """The database file this invocation works on (``--db`` wins over the configuration)."""
        if self.db_path is not None:
            return self.db_path.resolve()
        return self.config().database.path

    def existing_database_path(self) -> Path:
        """The database path, which must exist (``FileNotFoundError`` says how to make one)."""
        path = self.database_path()
        if not path.exists():
            raise FileNotFoundError(f"no database at {path}: run `tasteradar demo` first or pass --db")
        return path
