"""Makes the OpenAPI schema say exactly what the API does, for every operation at once.

drf-spectacular documents what each view declares; the API's shared behaviour is declared
nowhere in particular: every error has DESIGN §5's body, any authenticated call can be
refused (401, 403) or throttled (429), any body can be too large (413) or not JSON (415),
serializers refuse unknown fields, `limit` is 1-200. This hook (SPECTACULAR_SETTINGS
POSTPROCESSING_HOOKS) adds those to every operation, so a new endpoint is documented
correctly without remembering to, and schemathesis can hold the server to the schema.
"""

from tickets.api.pagination import DEFAULT_LIMIT, MAX_LIMIT
from tickets.models import Priority, Status

ERROR_TYPES = [
    "invalid_request_error",
    "authentication_error",
    "permission_error",
    "not_found",
    "conflict",
    "idempotency_error",
    "precondition_failed",
    "rate_limit_error",
    "api_error",
]

ERROR_SCHEMA = {
    "type": "object",
    "description": "Every error response (DESIGN §5).",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["type", "code", "message", "param", "details"],
            "properties": {
                "type": {"type": "string", "enum": ERROR_TYPES},
                "code": {"type": "string", "description": "Machine-readable, e.g. `required`."},
                "message": {"type": "string"},
                "param": {
                    "type": "string",
                    "nullable": True,
                    "description": "The field, query parameter or header at fault.",
                },
                "details": {
                    "type": "object",
                    "description": "Messages per field (dotted paths, `[i]` for list items).",
                    "additionalProperties": {"type": "array", "items": {"type": "string"}},
                },
            },
        }
    },
}

DESCRIPTIONS = {
    400: "invalid_request_error: the request is malformed or a field is invalid.",
    401: "authentication_error: no valid credentials.",
    403: "permission_error: the role or the token's scopes do not allow this.",
    404: "not_found: no such resource, or not one you may see.",
    406: "invalid_request_error: only application/json responses are available.",
    409: "conflict (or idempotency_error): the current state does not allow this.",
    412: "precondition_failed: If-Match names a version that is no longer current.",
    413: "invalid_request_error: the body is larger than the limit (2.5 MB by default).",
    414: "invalid_request_error: the URL is too long.",
    415: "invalid_request_error: the body must be application/json.",
    429: "rate_limit_error: too many requests; see Retry-After.",
    431: "invalid_request_error: the request headers are too large.",
}

# Header values the server accepts (tickets.api.idempotency.check_key, _expected_version).
HEADER_SCHEMAS = {
    "Idempotency-Key": {
        "type": "string",
        "minLength": 1,
        "maxLength": 255,
        "pattern": r"^[!-~]([ -~]*[!-~])?$",
    },
    "If-Match": {"type": "string", "pattern": r'^(\*|(W/)?"?[0-9]{1,18}"?)$'},
}

# Query parameters documented as free strings whose values are in fact fixed.
QUERY_ENUMS = {
    ("tickets_list", "status"): list(Status.values),
    ("tickets_list", "priority"): list(Priority.values),
}


def _statuses(operation: dict, method: str) -> list[int]:
    statuses = [400, 401, 403, 404, 406, 414, 429, 431]
    if "requestBody" in operation:
        statuses += [413, 415]
    if method != "get":
        statuses.append(409)
    if any(p.get("in") == "header" and p.get("name") == "If-Match" for p in _params(operation)):
        statuses.append(412)
    return statuses


def _params(operation: dict) -> list[dict]:
    return operation.get("parameters", [])


def _fix_parameters(operation: dict) -> None:
    for param in _params(operation):
        name, where = param.get("name"), param.get("in")
        if where == "query" and name == "limit":
            param["schema"] = {
                "type": "integer",
                "minimum": 1,
                "maximum": MAX_LIMIT,
                "default": DEFAULT_LIMIT,
            }
        elif where == "header" and name in HEADER_SCHEMAS:
            param["schema"] = dict(HEADER_SCHEMAS[name])
        if where == "query" and not param.get("required"):
            # Every list and filter treats `?name=` as if the parameter were absent.
            param["allowEmptyValue"] = True
        enum = QUERY_ENUMS.get((operation.get("operationId"), name))
        if where == "query" and enum:
            schema = param.get("schema", {})
            target = schema.get("items", schema) if schema.get("type") == "array" else schema
            target["enum"] = enum


def _request_components(result: dict) -> set[str]:
    """Names of the component schemas request bodies use, directly or nested."""
    schemas = result.get("components", {}).get("schemas", {})
    found: set[str] = set()

    def visit(node) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
                name = ref.rsplit("/", 1)[-1]
                if name not in found:
                    found.add(name)
                    visit(schemas.get(name))
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    for path in result.get("paths", {}).values():
        for operation in path.values():
            if isinstance(operation, dict) and "requestBody" in operation:
                visit(operation["requestBody"])
    return found


def _use_idn_email(node) -> None:
    """EmailField accepts internationalised domains (user@bücher.example) and echoes them as
    given, on input and output alike: that is `idn-email`, not the ASCII-only `email`."""
    if isinstance(node, dict):
        if node.get("format") == "email":
            node["format"] = "idn-email"
        for value in node.values():
            _use_idn_email(value)
    elif isinstance(node, list):
        for value in node:
            _use_idn_email(value)


def _resolve(schema: dict, schemas: dict) -> dict:
    ref = schema.get("$ref", "")
    return schemas.get(ref.rsplit("/", 1)[-1], {}) if ref else schema


def _add_links(paths: dict, schemas: dict) -> None:
    """OpenAPI links from each creation to the operations on what it created (POST
    /tickets -> /tickets/{id}, /tickets/{id}/messages, ...), so stateful testing (and a
    reader) knows where a new resource's id or slug goes."""
    for base, item in paths.items():
        created = item.get("post", {}).get("responses", {}).get("201")
        if not created:
            continue
        body = created.get("content", {}).get("application/json", {}).get("schema", {})
        properties = _resolve(body, schemas).get("properties", {})
        links = {}
        for path, other in paths.items():
            for key in ("id", "slug"):
                if key in properties and path.startswith(f"{base}/{{{key}}}"):
                    for operation in other.values():
                        if isinstance(operation, dict) and "operationId" in operation:
                            links[operation["operationId"]] = {
                                "operationId": operation["operationId"],
                                "parameters": {key: f"$response.body#/{key}"},
                            }
        if links:
            created["links"] = links


def postprocess(result, generator, request, public):
    components = result.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas["Error"] = ERROR_SCHEMA
    error_content = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}

    for path in result.get("paths", {}).values():
        for method, operation in path.items():
            if not isinstance(operation, dict):
                continue
            _fix_parameters(operation)
            responses = operation.setdefault("responses", {})
            for status in _statuses(operation, method):
                response = responses.setdefault(str(status), {})
                response.setdefault("description", DESCRIPTIONS.get(status, "Error."))
                response["content"] = error_content

    # Serializers refuse unknown fields (tickets.api.fields.StrictSerializerMixin).
    for name in _request_components(result):
        schema = schemas.get(name)
        if isinstance(schema, dict) and "properties" in schema:
            schema.setdefault("additionalProperties", False)

    _add_links(result.get("paths", {}), schemas)
    _use_idn_email(result)
    return result
