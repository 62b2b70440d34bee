"""Differential test of Ferry's JSON Schema validator against Python's `jsonschema` (pinned in
Tests/compat/requirements.txt), draft 2020-12.

A seeded generator builds schemas from every keyword Ferry evaluates (`$ref`/`$defs`, `$anchor`, `type`, `enum`,
`const`, numeric and string bounds, `pattern`, `items`/`prefixItems`, `contains` with its bounds,
`properties`/`patternProperties`/`additionalProperties`, `propertyNames`, `required`, `dependentRequired`,
`dependentSchemas`, `allOf`/`anyOf`/`oneOf`/`not`, `if`/`then`/`else`, `unevaluatedItems`,
`unevaluatedProperties`, boolean schemas) and instances from the same vocabulary (half of them built to fit the
schema), and asks both implementations for a verdict on each.

What the generator leaves out, and why:
* `jsonschema` collects the properties `additionalProperties` or `unevaluatedProperties` evaluated, for an outer
  `unevaluatedProperties`, by reading the *keys of their subschema* when it is not a boolean (`_utils.
  find_evaluated_property_keys_by_schema`), where the specification takes the instance's properties they applied to;
  Ferry follows the specification. So wherever a schema has `unevaluatedProperties`, those two keywords are booleans.
* Patterns stay within what both engines read alike (Python's `$` also matches before a final newline, so strings
  have no newline); numbers stay small (Python's integers are exact, Ferry's are doubles).
"""

import json
import os
import random

import jsonschema
import pytest

SEED = int(os.environ.get("JSONSCHEMA_DIFFERENTIAL_SEED", "20261207"))
CASES = int(os.environ.get("JSONSCHEMA_DIFFERENTIAL_CASES", "3000"))
INSTANCES_PER_SCHEMA = 8

KEYS = ["a", "b", "c", "x-1", "k0"]
STRINGS = ["", "a", "ab", "abc", "b", "ba", "x", "xy", "1", "a1", "12", "é", "éa", " ", "a b", "aaa", "k0"]
NUMBERS = [0, 1, -1, 2, 3, 5, 10, 100, -3, 0.5, 1.5, 2.5, -2.5, 4.5, 1.0, 7]
PATTERNS = ["^a", "b$", "^[a-c]+$", "\\d", "^\\w+$", "x|y", "^(ab)*$", "[^a]", "^.{2,3}$", "^$", "a{2}", "\\s",
            "^[0-9]+$", "é", "^k", "-"]
TYPES = ["null", "boolean", "object", "array", "number", "string", "integer"]


class Generator:
    def __init__(self, rng):
        self.rng = rng

    def schema(self):
        """A root schema, maybe with definitions (referenced by `#/$defs/…`, by anchor, or `#` itself from below)."""
        self.defs = {}
        self.anchors = []
        self.unevaluated_properties = self.rng.random() < 0.25
        root = {}
        if self.rng.random() < 0.3:
            for index in range(self.rng.randint(1, 3)):
                definition = self.subschema(2, allow_refs=False)
                if isinstance(definition, dict) and self.rng.random() < 0.3:
                    definition = dict(definition, **{"$anchor": f"A{index}"})
                    self.anchors.append(f"A{index}")
                self.defs[f"d{index}"] = definition
            root["$defs"] = self.defs
        body = self.subschema(0, allow_refs=True)
        if isinstance(body, bool):
            return body if not self.defs else dict(root, allOf=[body])
        root.update(body)
        if self.unevaluated_properties and "unevaluatedProperties" not in root:
            root["unevaluatedProperties"] = self.rng.random() < 0.5
        return root

    def subschema(self, depth, allow_refs, descended=False):
        rng = self.rng
        if depth > 3 or rng.random() < 0.12:
            return rng.choice([True, False, {}, True])
        schema = {}
        for _ in range(rng.randint(1, 3 if depth < 2 else 2)):
            self.keyword(schema, depth, allow_refs, descended)
        return schema

    def child(self, depth, allow_refs):
        """A subschema applied to a part of the value: a reference to the root is safe there."""
        return self.subschema(depth + 1, allow_refs, descended=True)

    def in_place(self, depth, allow_refs, descended):
        """A subschema applied to the same value: below a descending keyword a root reference stays safe."""
        return self.subschema(depth + 1, allow_refs, descended)

    def boolean_when_unevaluated(self, depth, allow_refs):
        if self.unevaluated_properties:
            return self.rng.random() < 0.5
        return self.child(depth, allow_refs)

    def keyword(self, schema, depth, allow_refs, descended):
        rng = self.rng
        choices = ["type", "enum", "const", "numeric", "string", "pattern", "items", "prefixItems", "contains",
                   "properties", "patternProperties", "additionalProperties", "propertyNames", "required",
                   "dependentRequired", "dependentSchemas", "allOf", "anyOf", "oneOf", "not", "if",
                   "unevaluatedItems", "unevaluatedProperties", "arrayBounds", "objectBounds", "ref"]
        kind = rng.choice(choices)
        if kind == "type":
            names = rng.sample(TYPES, rng.randint(1, 3))
            schema["type"] = names[0] if len(names) == 1 and rng.random() < 0.5 else names
        elif kind == "enum":
            schema["enum"] = [self.value(1) for _ in range(rng.randint(1, 4))]
        elif kind == "const":
            schema["const"] = self.value(1)
        elif kind == "numeric":
            for keyword in rng.sample(["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"],
                                      rng.randint(1, 2)):
                if keyword == "multipleOf":
                    schema[keyword] = rng.choice([2, 3, 0.5, 1.5, 1])
                else:
                    schema[keyword] = rng.choice([0, 1, 2, 2.5, -1, 5, 10])
        elif kind == "string":
            for keyword in rng.sample(["minLength", "maxLength"], rng.randint(1, 2)):
                schema[keyword] = rng.choice([0, 1, 2, 3, 1.0])
        elif kind == "pattern":
            schema["pattern"] = rng.choice(PATTERNS)
        elif kind == "items":
            schema["items"] = self.child(depth, allow_refs)
        elif kind == "prefixItems":
            schema["prefixItems"] = [self.child(depth, allow_refs) for _ in range(rng.randint(1, 3))]
        elif kind == "contains":
            schema["contains"] = self.child(depth, allow_refs)
            if rng.random() < 0.4:
                schema["minContains"] = rng.choice([0, 1, 2])
            if rng.random() < 0.4:
                schema["maxContains"] = rng.choice([0, 1, 2, 3])
        elif kind == "properties":
            schema["properties"] = {key: self.child(depth, allow_refs)
                                    for key in rng.sample(KEYS, rng.randint(1, 3))}
        elif kind == "patternProperties":
            schema["patternProperties"] = {pattern: self.child(depth, allow_refs)
                                           for pattern in rng.sample(PATTERNS, rng.randint(1, 2))}
        elif kind == "additionalProperties":
            schema["additionalProperties"] = self.boolean_when_unevaluated(depth, allow_refs)
        elif kind == "propertyNames":
            schema["propertyNames"] = rng.choice([
                {"pattern": rng.choice(PATTERNS)}, {"maxLength": rng.choice([1, 2])}, {"enum": rng.sample(KEYS, 2)},
                False, True])
        elif kind == "required":
            schema["required"] = rng.sample(KEYS, rng.randint(0, 2))
        elif kind == "dependentRequired":
            schema["dependentRequired"] = {rng.choice(KEYS): rng.sample(KEYS, rng.randint(0, 2))}
        elif kind == "dependentSchemas":
            schema["dependentSchemas"] = {rng.choice(KEYS): self.in_place(depth, allow_refs, descended)}
        elif kind in ("allOf", "anyOf", "oneOf"):
            schema[kind] = [self.in_place(depth, allow_refs, descended) for _ in range(rng.randint(1, 3))]
        elif kind == "not":
            schema["not"] = self.in_place(depth, allow_refs, descended)
        elif kind == "if":
            schema["if"] = self.in_place(depth, allow_refs, descended)
            if rng.random() < 0.7:
                schema["then"] = self.in_place(depth, allow_refs, descended)
            if rng.random() < 0.7:
                schema["else"] = self.in_place(depth, allow_refs, descended)
        elif kind == "unevaluatedItems":
            schema["unevaluatedItems"] = self.child(depth, allow_refs)
        elif kind == "unevaluatedProperties":
            if self.unevaluated_properties:
                schema["unevaluatedProperties"] = rng.random() < 0.5
        elif kind == "arrayBounds":
            for keyword in rng.sample(["minItems", "maxItems", "uniqueItems"], rng.randint(1, 2)):
                schema[keyword] = rng.random() < 0.6 if keyword == "uniqueItems" else rng.choice([0, 1, 2, 3])
        elif kind == "objectBounds":
            for keyword in rng.sample(["minProperties", "maxProperties"], rng.randint(1, 2)):
                schema[keyword] = rng.choice([0, 1, 2, 3])
        elif kind == "ref" and allow_refs:
            targets = [f"#/$defs/{name}" for name in self.defs] + [f"#{anchor}" for anchor in self.anchors]
            # The root only from below a keyword that descends into the value: in place it would never end.
            if descended:
                targets.append("#")
            if targets:
                schema["$ref"] = rng.choice(targets)

    def value(self, depth):
        rng = self.rng
        roll = rng.random()
        if depth > 2 or roll < 0.45:
            return rng.choice([None, True, False] + NUMBERS + STRINGS)
        if roll < 0.7:
            return [self.value(depth + 1) for _ in range(rng.randint(0, 4))]
        return {key: self.value(depth + 1) for key in rng.sample(KEYS, rng.randint(0, 4))}

    def fitting(self, schema, depth=0):
        """A value shaped after the schema's own keywords (more often valid than a random one)."""
        rng = self.rng
        if not isinstance(schema, dict) or depth > 3:
            return self.value(2)
        if "const" in schema and rng.random() < 0.7:
            return schema["const"]
        if "enum" in schema and rng.random() < 0.7:
            return rng.choice(schema["enum"])
        if any(k in schema for k in ("properties", "required", "patternProperties", "dependentRequired")):
            value = {}
            for key, subschema in schema.get("properties", {}).items():
                if rng.random() < 0.8:
                    value[key] = self.fitting(subschema, depth + 1)
            for key in schema.get("required", []):
                value.setdefault(key, self.value(2))
            if rng.random() < 0.3:
                value[rng.choice(KEYS)] = self.value(2)
            return value
        if any(k in schema for k in ("items", "prefixItems", "contains")):
            value = [self.fitting(s, depth + 1) for s in schema.get("prefixItems", [])]
            for _ in range(rng.randint(0, 3)):
                value.append(self.fitting(schema.get("items", schema.get("contains", True)), depth + 1))
            return value
        if "pattern" in schema or "minLength" in schema or "maxLength" in schema:
            return rng.choice(STRINGS)
        if any(k in schema for k in ("minimum", "maximum", "multipleOf", "exclusiveMinimum", "exclusiveMaximum")):
            return rng.choice(NUMBERS)
        if "allOf" in schema:
            return self.fitting(schema["allOf"][0], depth + 1)
        if "anyOf" in schema or "oneOf" in schema:
            return self.fitting(rng.choice(schema.get("anyOf", schema.get("oneOf"))), depth + 1)
        return self.value(1)


def python_verdicts(schema, instances):
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    return [validator.is_valid(instance) for instance in instances]


def test_verdicts_match_pythons_jsonschema_over_a_generated_corpus(swift):
    rng = random.Random(SEED)
    generator = Generator(rng)
    mismatches = []
    verdicts = {True: 0, False: 0}
    keywords = set()
    for case in range(CASES):
        schema = generator.schema()
        instances = [generator.fitting(schema) if index % 2 == 0 else generator.value(0)
                     for index in range(INSTANCES_PER_SCHEMA)]
        expected = python_verdicts(schema, instances)
        actual = swift.validate(schema, instances)
        if actual != expected:
            mismatches.append({"case": case, "schema": schema, "instances": instances, "python": expected,
                               "swift": actual})
        for verdict in expected:
            verdicts[verdict] += 1
        collect_keywords(schema, keywords)
    print(f"\njson schema differential: {CASES} schemas × {INSTANCES_PER_SCHEMA} instances "
          f"({verdicts[True]} valid, {verdicts[False]} invalid), {len(keywords)} keywords, seed {SEED}, "
          f"{len(mismatches)} mismatches")
    assert not mismatches, json.dumps(mismatches[:3], ensure_ascii=False)
    assert verdicts[True] > CASES and verdicts[False] > CASES, "the corpus exercises both verdicts"
    assert {"unevaluatedProperties", "unevaluatedItems", "$ref", "oneOf", "if", "dependentSchemas",
            "patternProperties", "prefixItems", "minContains", "$anchor"} <= keywords


def collect_keywords(schema, keywords):
    if isinstance(schema, dict):
        for key, value in schema.items():
            keywords.add(key)
            if key in ("properties", "patternProperties", "dependentSchemas", "$defs"):
                for subschema in value.values():
                    collect_keywords(subschema, keywords)
            elif isinstance(value, list):
                for element in value:
                    collect_keywords(element, keywords)
            elif isinstance(value, dict) and key not in ("const", "enum", "dependentRequired"):
                collect_keywords(value, keywords)


@pytest.mark.parametrize("schema", [
    {"type": "strin"}, {"type": []}, {"type": ["string", "string"]}, {"minLength": -1}, {"minLength": 1.5},
    {"maxItems": "3"}, {"required": "a"}, {"required": ["a", "a"]}, {"multipleOf": 0}, {"multipleOf": -2},
    {"enum": "a"}, {"allOf": []}, {"anyOf": {}}, {"properties": []}, {"properties": {"a": 3}}, {"items": 1},
    {"uniqueItems": 1}, {"dependentRequired": {"a": "b"}}, {"pattern": 5}, {"not": "x"}, {"$ref": 3},
])
def test_schemas_the_meta_schema_refuses_are_refused(swift, schema):
    with pytest.raises(jsonschema.SchemaError):
        jsonschema.Draft202012Validator.check_schema(schema)
    answer = swift.validate(schema, [1])
    assert isinstance(answer, str), f"{schema} was accepted"
