"""Task contracts: the frozen model, and loading it from TOML."""

from simple_worker.contract.loader import FORMAT_VERSION, load_contract, load_contract_text
from simple_worker.contract.model import (
    DEFAULT_QUEUE,
    MISSING,
    SCALAR_NAMES,
    Argument,
    Contract,
    DictType,
    ListType,
    LiteralType,
    OptionalType,
    Record,
    RecordRef,
    ScalarName,
    ScalarType,
    Task,
    TypeExpr,
    referenced_record,
)
from simple_worker.contract.naming import check_queue_name
from simple_worker.contract.typeexpr import parse_type

__all__ = [
    "DEFAULT_QUEUE",
    "FORMAT_VERSION",
    "MISSING",
    "SCALAR_NAMES",
    "Argument",
    "Contract",
    "DictType",
    "ListType",
    "LiteralType",
    "OptionalType",
    "Record",
    "RecordRef",
    "ScalarName",
    "ScalarType",
    "Task",
    "TypeExpr",
    "check_queue_name",
    "load_contract",
    "load_contract_text",
    "parse_type",
    "referenced_record",
]
