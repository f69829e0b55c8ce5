"""Import files into the store: readers, column schemas and the validating upserter.

Example:
    >>> from recsvc.ingest import import_dir
    >>> reports = import_dir(db, "data/demo")           # doctest: +SKIP
"""

from recsvc.ingest.encoding import detect_encoding
from recsvc.ingest.importer import ImportReport, entity_of, import_dir, import_file
from recsvc.ingest.readers import open_table
from recsvc.ingest.schema import ENTITY_ORDER, SCHEMAS, ColumnSpec, EntitySchema

__all__ = [
    "ENTITY_ORDER",
    "SCHEMAS",
    "ColumnSpec",
    "EntitySchema",
    "ImportReport",
    "detect_encoding",
    "entity_of",
    "import_dir",
    "import_file",
    "open_table",
]
