"""XML bodies, read and written as OpenAPI's ``xml`` object describes them.

A schema says what the value is; its ``xml`` hints say how the value looks in XML: a property is an
element of its name (or ``xml.name``), or an attribute (``xml.attribute``); an array is its items
repeated, inside one element of the array's name when ``xml.wrapped``; ``xml.prefix`` and
``xml.namespace`` qualify a name. The root element is named by the schema's ``xml.name``, else by the
component the body's ``$ref`` names, else ``root`` (an array at the root is wrapped in one element).

Before this, an XML answer was JSON text under ``application/xml``, and an XML request body was judged
as one string against its object schema, so every valid one was refused. Request bodies are parsed with
defusedxml: entity expansion and external entities are refused, not followed.
"""

from __future__ import annotations

import json
import re
from typing import Any
from xml.etree.ElementTree import Element, SubElement, tostring

import defusedxml.ElementTree
from defusedxml import DefusedXmlException

from apitwin.specs.pointer import follow

ROOT = "root"
INVALID_NAME_CHARACTER = re.compile(r"[^A-Za-z0-9._:-]")


class XmlBodyError(ValueError):
    """A request body that is not well-formed XML (or that defusedxml refuses)."""


def is_xml(media_type: str) -> bool:
    base = media_type.split(";")[0].strip().lower()
    return base.endswith(("/xml", "+xml"))


class XmlCodec:
    """The XML form of values of ``schema``, whose ``$ref``s resolve in ``document``."""

    __slots__ = ("document", "root_name", "schema")

    def __init__(self, schema: Any, document: dict[str, Any]) -> None:
        self.schema = schema
        self.document = document
        self.root_name = _root_name(schema, document)

    # -- writing ---------------------------------------------------------------------------------

    def write(self, value: Any) -> bytes:
        schema = self._resolved(self.schema)
        if isinstance(value, list):  # one root: the items inside an element of the array's name
            root = Element(self.root_name)
            items = self._resolved(schema.get("items"))
            for item in value:
                root.append(self._element(_hint(schema.get("items"), items, "name") or "item", item, items))
        else:
            root = self._element(self.root_name, value, schema)
        _declare_namespace(root, schema)
        return tostring(root, encoding="utf-8", xml_declaration=True)

    def _element(self, name: str, value: Any, schema: dict[str, Any]) -> Element:
        element = Element(_qualified(name, schema))
        if isinstance(value, dict):
            properties = self._properties(schema)
            for key, item in value.items():
                declared = properties.get(key)
                target = self._resolved(declared)
                tag = _hint(declared, target, "name") or _element_name(key)
                if _hint(declared, target, "attribute") and not isinstance(item, (dict, list)):
                    element.set(_qualified(tag, target), _text(item))
                elif isinstance(item, list):
                    self._array(element, tag, item, declared, target)
                else:
                    element.append(self._element(tag, item, target))
        elif isinstance(value, list):
            for item in value:
                element.append(self._element("item", item, self._resolved(schema.get("items"))))
        elif value is not None:
            element.text = _text(value)
        return element

    def _array(self, parent: Element, tag: str, items: list[Any], declared: Any, target: dict[str, Any]) -> None:
        item_schema = self._resolved(target.get("items"))
        item_tag = _hint(target.get("items"), item_schema, "name") or tag
        holder = SubElement(parent, _qualified(tag, target)) if _hint(declared, target, "wrapped") else parent
        for item in items:
            holder.append(self._element(item_tag, item, item_schema))

    # -- reading ---------------------------------------------------------------------------------

    def read(self, raw: bytes) -> Any:
        """The value an XML body stands for, scalars read as the schema types them; raises XmlBodyError."""
        try:
            root = defusedxml.ElementTree.fromstring(raw)
        except (DefusedXmlException, SyntaxError) as error:  # ParseError is a SyntaxError
            raise XmlBodyError(str(error) or error.__class__.__name__) from error
        schema = self._resolved(self.schema)
        if _kind(schema) == "array":
            items = self._resolved(schema.get("items"))
            return [self._value(child, items) for child in root]
        return self._value(root, schema)

    def _value(self, element: Element, schema: dict[str, Any]) -> Any:
        kind = _kind(schema)
        if kind == "object" or (kind is None and (len(element) or element.attrib)):
            return self._object(element, schema)
        if kind == "array":
            items = self._resolved(schema.get("items"))
            return [self._value(child, items) for child in element]
        return _scalar(element.text or "", schema)

    def _object(self, element: Element, schema: dict[str, Any]) -> dict[str, Any]:
        by_tag: dict[str, tuple[str, Any, dict[str, Any]]] = {}
        for name, declared in self._properties(schema).items():
            target = self._resolved(declared)
            tag = _hint(declared, target, "name") or _element_name(name)
            if _kind(target) == "array" and not _hint(declared, target, "wrapped"):  # its items, each named
                tag = _hint(target.get("items"), self._resolved(target.get("items")), "name") or tag
            by_tag[tag] = (name, declared, target)
        value: dict[str, Any] = {}
        for attribute, text in element.attrib.items():
            name, _, target = by_tag.get(_local(attribute), (_local(attribute), None, {}))
            value[name] = _scalar(text, target)
        for child in element:
            name, declared, target = by_tag.get(_local(child.tag), (_local(child.tag), None, {}))
            if _kind(target) != "array":
                value[name] = self._value(child, target)
                continue
            items = self._resolved(target.get("items"))
            if _hint(declared, target, "wrapped"):
                value[name] = [self._value(item, items) for item in child]
            else:
                value.setdefault(name, []).append(self._value(child, items))
        return value

    # -- schemas ---------------------------------------------------------------------------------

    def _resolved(self, schema: Any) -> dict[str, Any]:
        target = follow(self.document, schema, merge_siblings=True)
        return target if isinstance(target, dict) else {}

    def _properties(self, schema: dict[str, Any]) -> dict[str, Any]:
        """Declared properties, those of ``allOf``/``oneOf``/``anyOf`` branches included."""
        found: dict[str, Any] = {}
        for keyword in ("allOf", "oneOf", "anyOf"):
            for branch in schema.get(keyword) or ():
                found.update(self._properties(self._resolved(branch)))
        found.update(schema.get("properties") or {})
        return found


def _root_name(schema: Any, document: dict[str, Any]) -> str:
    target = follow(document, schema, merge_siblings=True)
    name = _hint(schema, target if isinstance(target, dict) else {}, "name")
    if name:
        return name
    if isinstance(schema, dict) and isinstance(schema.get("$ref"), str):
        return _element_name(schema["$ref"].rsplit("/", 1)[-1])
    return ROOT


def _hint(declared: Any, target: dict[str, Any], key: str) -> Any:
    """An ``xml`` hint from the property's own schema, else from what its ``$ref`` leads to."""
    for schema in (declared, target):
        hints = schema.get("xml") if isinstance(schema, dict) else None
        if isinstance(hints, dict) and hints.get(key) not in (None, ""):
            return hints[key]
    return None


def _qualified(name: str, schema: dict[str, Any]) -> str:
    hints = schema.get("xml") if isinstance(schema, dict) else None
    prefix = hints.get("prefix") if isinstance(hints, dict) else None
    return f"{prefix}:{name}" if isinstance(prefix, str) and prefix and ":" not in name else name


def _declare_namespace(root: Element, schema: dict[str, Any]) -> None:
    hints = schema.get("xml") if isinstance(schema, dict) else None
    namespace = hints.get("namespace") if isinstance(hints, dict) else None
    if isinstance(namespace, str) and namespace:
        prefix = hints.get("prefix") if isinstance(hints, dict) else None
        root.set(f"xmlns:{prefix}" if isinstance(prefix, str) and prefix else "xmlns", namespace)


def _element_name(text: str) -> str:
    """``text`` as an XML name: characters a name cannot hold become ``_``; one cannot start with a digit."""
    name = INVALID_NAME_CHARACTER.sub("_", text) or "_"
    return name if name[0].isalpha() or name[0] == "_" else "_" + name


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1].rsplit(":", 1)[-1]


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    return json.dumps(value)


def _kind(schema: dict[str, Any]) -> str | None:
    declared = schema.get("type")
    kinds = [declared] if isinstance(declared, str) else [kind for kind in declared or () if kind != "null"]
    if kinds:
        return str(kinds[0])
    if "properties" in schema or "additionalProperties" in schema:
        return "object"
    if "items" in schema:
        return "array"
    return None


def _scalar(text: str, schema: dict[str, Any]) -> Any:
    """Element or attribute text as the schema types it; text that is no such value stays text, for the
    validator to name."""
    kind = _kind(schema)
    declared = schema.get("type")
    if text == "" and (declared == "null" or (isinstance(declared, list) and "null" in declared)):
        return None
    if kind == "boolean" and text in ("true", "false"):
        return text == "true"
    if kind in ("integer", "number"):
        try:
            number = json.loads(text)
        except ValueError:
            return text
        return number if isinstance(number, (int, float)) and not isinstance(number, bool) else text
    return text
