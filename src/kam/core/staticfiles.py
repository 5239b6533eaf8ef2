"""The static files as `kam serve` collects them (KAM_STATIC=collected, see settings): every name
carries its content's hash and every file a gzip and a brotli copy, so WhiteNoise serves them
with a year's caching. The vendored bundles name source maps that are not shipped; their
references are left as they are instead of failing the collection."""

from __future__ import annotations

import os

from whitenoise.compress import Compressor
from whitenoise.storage import CompressedManifestStaticFilesStorage


def _without_source_maps(patterns):
    kept = []
    for suffix, rules in patterns:
        rules = tuple(r for r in rules if "sourceMappingURL" not in (r if isinstance(r, str) else r[0]))
        if rules:
            kept.append((suffix, rules))
    return tuple(kept)


class CollectedStaticFiles(CompressedManifestStaticFilesStorage):
    patterns = _without_source_maps(CompressedManifestStaticFilesStorage.patterns)

    def create_compressor(self, **kwargs):
        # Source maps are read by a developer's tools, not sent to users: not worth compressing.
        kwargs["extensions"] = (*Compressor.SKIP_COMPRESS_EXTENSIONS, "map")
        return super().create_compressor(**kwargs)

    def compress_files(self, paths):
        """Compress only what changed since the last collection: whitenoise gives a compressed
        copy its source's modification time, so a copy with the same time is that file's
        (brotli at its best level takes most of a collection's time)."""
        yield from super().compress_files([p for p in paths if not self._compressed(p)])

    def _compressed(self, name: str) -> bool:
        full = self.path(name)
        try:
            modified = os.stat(full).st_mtime
        except OSError:
            return False
        return any(os.path.exists(full + ext) and os.stat(full + ext).st_mtime == modified for ext in (".br", ".gz"))
