"""The filter language of POST /experiments/list/ and /experiments/summary/: validation and query building."""

from typing import Any

from django.db.models import F, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Length, StrIndex, Substr
from django.db.models.lookups import Exact, GreaterThan
from rest_framework import serializers

from drf_backend import faults
from drf_backend.models import Dataset

OPERATORS = (
    "",
    "iexact",
    "lt",
    "lte",
    "gt",
    "gte",
    "contains",
    "icontains",
    "startswith",
    "endswith",
    "in",
    "isnull",
    "not",
)
TEXT_OPERATORS = ("iexact", "contains", "icontains", "startswith", "endswith")

TEXT, INTEGER, NUMBER, BOOLEAN, DATETIME = "text", "integer", "number", "boolean", "datetime"

# Public field name -> (queryset path, value type).
FILTER_FIELDS: dict[str, tuple[str, str]] = {
    "id": ("experiment_id", TEXT),
    "name": ("name", TEXT),
    "description": ("description", TEXT),
    "status": ("status", TEXT),
    "dataset": ("dataset_id", TEXT),
    "dataset_id": ("dataset_id", TEXT),
    "dataset_name": ("dataset_name_value", TEXT),
    "generation_method": ("generation_method", TEXT),
    "error_message": ("error_message", TEXT),
    "workflow_count": ("workflow_count", INTEGER),
    "batch_size": ("batch_size", INTEGER),
    "concurrency": ("concurrency", INTEGER),
    "progress": ("progress", NUMBER),
    "enable_tracing": ("enable_tracing", BOOLEAN),
    "created_at": ("created_at", DATETIME),
    "started_at": ("started_at", DATETIME),
    "completed_at": ("completed_at", DATETIME),
}


def _value_field(kind: str) -> serializers.Field:
    match kind:
        case "text":
            return serializers.CharField(allow_blank=True, trim_whitespace=False)
        case "integer":
            return serializers.IntegerField()
        case "number":
            return serializers.FloatField()
        case "boolean":
            return serializers.BooleanField()
        case _:
            return serializers.DateTimeField()


def clean_condition(field: str, operator: str, value: Any) -> Any:
    """The condition's value converted to the field's type; raises ValidationError keyed like the body."""
    if field not in FILTER_FIELDS:
        raise serializers.ValidationError(f"Unknown field. Filterable fields: {', '.join(FILTER_FIELDS)}.")
    kind = FILTER_FIELDS[field][1]
    if operator in TEXT_OPERATORS and kind != TEXT:
        raise serializers.ValidationError({"operator": [f"'{operator}' applies to text fields only."]})
    if operator == "isnull":
        value_field: serializers.Field = serializers.BooleanField()
    elif operator == "in":
        value_field = serializers.ListField(child=_value_field(kind))
    elif isinstance(value, list):
        # The vendor's filter reference writes every value as a list: any of them matches.
        value_field = serializers.ListField(child=_value_field(kind), min_length=1)
    else:
        value_field = _value_field(kind)
        # Equality with null is how a client asks for "not set".
        value_field.allow_null = operator in ("", "not")
    try:
        return value_field.run_validation(value)
    except serializers.ValidationError as error:
        raise serializers.ValidationError({"value": error.detail}) from None


def apply_filters(queryset: QuerySet, conditions: dict[str, tuple[str, Any]]) -> QuerySet:
    if any(FILTER_FIELDS[field][0] == "dataset_name_value" for field in conditions):
        queryset = with_dataset_name(queryset)
    for field, (operator, value) in conditions.items():
        path = FILTER_FIELDS[field][0]
        if isinstance(value, list) and operator not in ("in", "isnull"):
            any_of = Q()
            for one in value:
                any_of |= _condition(path, operator, one)
            queryset = queryset.exclude(**{f"{path}__in": value}) if operator == "not" else queryset.filter(any_of)
            continue
        if operator in ("contains", "startswith", "endswith"):
            queryset = queryset.filter(_case_sensitive(path, operator, value))
        elif operator == "":
            queryset = queryset.filter(**{path: value})
        elif operator == "not":
            queryset = queryset.exclude(**{path: value})
        else:
            queryset = queryset.filter(**{f"{path}__{operator}": value})
    return queryset


def _condition(path: str, operator: str, value: Any) -> Q:
    """One operator on one value, as a Q (a list value ORs these)."""
    if operator in ("contains", "startswith", "endswith"):
        return Q(_case_sensitive(path, operator, value))
    if operator == "":
        return Q(**{path: value})
    return Q(**{f"{path}__{operator}": value})


def _case_sensitive(path: str, operator: str, value: str):
    # PLANTED FAULT contains_ignores_case: the documented rule is that these three are case-sensitive.
    if faults.active("contains_ignores_case"):
        return Q(**{f"{path}__i{operator}": value})
    # SQLite's LIKE (what Django uses for these lookups) ignores case, so compare with INSTR / SUBSTR instead.
    if operator == "contains":
        return GreaterThan(StrIndex(F(path), Value(value)), 0)
    if operator == "startswith":
        return Exact(StrIndex(F(path), Value(value)), 1)
    return Exact(Substr(F(path), Length(F(path)) - (len(value) - 1)), Value(value))


def with_dataset_name(queryset: QuerySet) -> QuerySet:
    names = Dataset.objects.filter(organization=OuterRef("organization"), id=OuterRef("dataset_id")).values("name")
    return queryset.annotate(dataset_name_value=Subquery(names[:1]))
