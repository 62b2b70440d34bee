"""Differential testing: random Datalog programs (facts, rules, checks, policies, expressions, token blocks with
scopes) authorized by the Swift library and by biscuit-python must give the same outcome.

The seed is printed; replay a failure with BISCUIT_DIFFERENTIAL_SEED=<seed> (and BISCUIT_DIFFERENTIAL_CASES=<n>).
Expressions that can fail are only generated where the outcome does not depend on the order facts are visited in
(rules: every combination is evaluated), since a `check if` stops at its first match.
"""

import collections
import os
import random

import biscuit_auth

from conftest import python_keypair, python_outcome

CASES = int(os.environ.get("BISCUIT_DIFFERENTIAL_CASES", "1000"))
SEED = int(os.environ.get("BISCUIT_DIFFERENTIAL_SEED", str(random.SystemRandom().randrange(2**32))))

STRINGS = ["a", "b", "ab", "ba", "abc", "é", "", "a\\\"q"]
# Patterns as written inside a Datalog string (so `\\\\w` is the regex `\\w`).
REGEXES = ["^a", "b$", "a|c", "^(ab)+$", "[a-c]{2}", "\\\\w+$", "^\\\\d*$", "é", "a.c", "(?:a|b)c", "^[^a]", "a\\\\b",
           ".*", "^.{2,3}$", "(a+)+b"]
DATES = ["2024-01-01T00:00:00Z", "2025-06-15T12:30:00Z", "2030-01-01T00:00:00+02:00"]
ARRAYS = ["[]", "[1]", "[1, 2]", "[3, 1]", "[2, 2, 2]"]
# No `{}` in facts: biscuit-python 0.4.0 reads `{` there as a set and refuses the empty map (it accepts it in
# expressions, and so does Ferry everywhere).
MAPS = ['{"k": 1}', '{"k": 2, 1: "v"}', '{1: "v"}', '{"k": 1, "j": [1]}']

# Base predicates and the type of each argument.
BASE = {
    "num": ["int"], "pair": ["int", "int"], "name": ["str"], "owns": ["str", "int"], "when": ["date"],
    "tags": ["array"], "attrs": ["map"], "flag": ["bool"], "blob": ["bytes"],
}
DERIVED = {"dnum": ["int"], "dname": ["str"], "dpair": ["str", "int"], "dtag": ["array"]}


class Generator:
    def __init__(self, rng):
        self.rng = rng
        self.counter = 0

    def choice(self, items):
        return self.rng.choice(items)

    def value(self, kind):
        r = self.rng
        if kind == "int":
            return str(r.randint(-3, 6))
        if kind == "str":
            return '"' + r.choice(STRINGS) + '"'
        if kind == "date":
            return r.choice(DATES)
        if kind == "array":
            return r.choice(ARRAYS)
        if kind == "map":
            return r.choice(MAPS)
        if kind == "bool":
            return r.choice(["true", "false"])
        return r.choice(["hex:00", "hex:ff", "hex:00ff"])

    def fact(self, predicates=BASE):
        name = self.choice(list(predicates))
        return f"{name}(" + ", ".join(self.value(kind) for kind in predicates[name]) + ")"

    def variable(self, kind):
        self.counter += 1
        return f"${kind[0]}{self.counter}"

    def body(self, allow_derived=True):
        """Predicates with variables (typed), and the variables bound by them."""
        pool = dict(BASE)
        if allow_derived:
            pool.update(DERIVED)
        predicates, bound = [], []
        for _ in range(self.rng.randint(1, 2)):
            name = self.choice(list(pool))
            terms = []
            for kind in pool[name]:
                if bound and self.rng.random() < 0.3:
                    same = [v for v, k in bound if k == kind]
                    if same:
                        terms.append(self.choice(same))
                        continue
                if self.rng.random() < 0.2:
                    terms.append(self.value(kind))
                else:
                    variable = self.variable(kind)
                    bound.append((variable, kind))
                    terms.append(variable)
            predicates.append(f"{name}(" + ", ".join(terms) + ")")
        return predicates, bound

    def expression(self, bound, depth=0):
        r = self.rng
        if not bound:
            return r.choice(["true", "1 < 2", '"a" != "b"', "(1 / 0).try_or(true)", "[1].any($e -> $e == 1)"])
        variable, kind = r.choice(bound)
        if depth < 1 and r.random() < 0.25:
            left, right = self.expression(bound, depth + 1), self.expression(bound, depth + 1)
            return r.choice([f"{left} && {right}", f"{left} || {right}", f"!({left})"])
        c = r.randint(-2, 5)
        if kind == "int":
            ints = [v for v, k in bound if k == "int"]
            other = r.choice(ints)
            return r.choice([
                f"{variable} > {c}", f"{variable} <= {c}", f"{variable} + {c} == {r.randint(-2, 8)}",
                f"{variable} * 2 < {c}", f"{variable} - {other} >= {c}", f"{variable} === {other}",
                f"{variable} != {c}", f"{variable} & 1 == 0", f"{variable} | 4 > {c}", f"{variable} ^ 1 == {c}",
                f"{{1, 2, 3}}.contains({variable})", f"[0, {c}].contains({variable})", f"{variable} / 2 == {c}",
                f"(10 / {variable}).try_or(-1) > 0", f'{variable}.type() == "integer"', f"{variable} !== {c}",
                f'{variable} == "{c}"', f"{variable} < {other}",
            ])
        if kind == "str":
            s = r.choice(STRINGS[:6])
            return r.choice([
                f'{variable}.starts_with("{s}")', f'{variable}.ends_with("{s}")', f'{variable}.contains("{s}")',
                f"{variable}.length() > {c}", f'{variable} + "x" == "{s}x"', f'{variable} == "{s}"',
                f'{variable}.matches("{r.choice(REGEXES)}")', f'{{"a", "b"}}.contains({variable})',
                f"{variable} != 1",
            ])
        if kind == "date":
            return r.choice([f"{variable} < {r.choice(DATES)}", f"{variable} >= {r.choice(DATES)}",
                             f"{variable} == {r.choice(DATES)}"])
        if kind == "array":
            return r.choice([
                f"{variable}.contains({c})", f"{variable}.length() == {r.randint(0, 3)}",
                f"{variable}.any($e -> $e > 1)", f"{variable}.all($e -> $e >= 1)", f"{variable}.get(0) == 1",
                f"{variable}.starts_with([1])", f"{variable} == [1, 2]", f'{variable}.type() == "array"',
            ])
        if kind == "map":
            return r.choice([
                f'{variable}.get("k") == 1', f'{variable}.contains("k")', f"{variable}.length() > {r.randint(0, 2)}",
                f"{variable}.any($kv -> $kv.get(1) == 1)", f'{variable}.get(1) == "v"', f"{variable} == {{}}",
            ])
        if kind == "bool":
            return r.choice([variable, f"!{variable}", f"{variable} == true", f"{variable} || false"])
        return r.choice([f"{variable} == hex:00", f"{variable}.length() == 1", f"{variable} != hex:ff"])

    def query(self, allow_derived=True):
        predicates, bound = self.body(allow_derived)
        elements = predicates + [self.expression(bound) for _ in range(self.rng.randint(0, 2))]
        scope = ""
        if self.rng.random() < 0.1:
            scope = " trusting " + self.choice(["previous", "authority", "authority, previous"])
        return ", ".join(elements) + scope

    def rule(self, risky=False):
        predicates, bound = self.body()
        head_name = self.choice(list(DERIVED))
        head_terms = []
        for kind in DERIVED[head_name]:
            same = [v for v, k in bound if k == kind]
            head_terms.append(self.choice(same) if same else self.value(kind))
        expressions = [self.expression(bound) for _ in range(self.rng.randint(0, 1))]
        ints = [v for v, k in bound if k == "int"]
        if risky and ints:
            expressions.append(f"{self.choice(ints)} * 4611686018427387904 != 1")
        scope = " trusting previous" if self.rng.random() < 0.1 else ""
        return f"{head_name}(" + ", ".join(head_terms) + ") <- " + ", ".join(predicates + expressions) + scope

    def check(self):
        keyword = self.choice(["check if", "check if", "check all", "reject if"])
        queries = [self.query() for _ in range(self.rng.randint(1, 2))]
        return keyword + " " + " or ".join(queries)

    def block(self, authority):
        lines = []
        if not authority and self.rng.random() < 0.2:
            lines.append("trusting previous;")
        lines += [self.fact() + ";" for _ in range(self.rng.randint(0, 5))]
        lines += [self.rule(risky=self.rng.random() < 0.05) + ";" for _ in range(self.rng.randint(0, 2))]
        lines += [self.check() + ";" for _ in range(self.checks())]
        return "\n".join(lines)

    def checks(self):
        return self.rng.choices([0, 1, 2], weights=[5, 4, 1])[0]

    def authorizer(self):
        lines = [self.fact() + ";" for _ in range(self.rng.randint(1, 6))]
        lines += [self.rule(risky=self.rng.random() < 0.05) + ";" for _ in range(self.rng.randint(0, 2))]
        lines += [self.check() + ";" for _ in range(self.checks())]
        for _ in range(self.rng.randint(1, 3)):
            kind = self.choice(["allow if", "allow if", "deny if"])
            lines.append(f"{kind} " + " or ".join(self.query() for _ in range(self.rng.randint(1, 2))) + ";")
        if self.rng.random() < 0.6:
            lines.append(self.choice(["allow if true;", "allow if true;", "deny if true;"]))
        return "\n".join(lines)


def test_swift_and_biscuit_python_agree_on_generated_programs(swift):
    print(f"\nbiscuit differential: seed {SEED}, {CASES} cases (replay: BISCUIT_DIFFERENTIAL_SEED={SEED})")
    rng = random.Random(SEED)
    generator = Generator(rng)
    root = python_keypair()
    root_public = str(root.public_key)
    outcomes = collections.Counter()
    for case in range(CASES):
        authorizer = generator.authorizer()
        blocks = [generator.block(authority=index == 0) for index in range(rng.randint(1, 3))] \
            if rng.random() < 0.75 else []
        token_b64 = python_token = None
        if blocks:
            if case % 2 == 0:
                token_b64 = swift.call(op="build", root_private=str(root.private_key), source=blocks[0])["token"]
                for block in blocks[1:]:
                    token_b64 = swift.call(op="append", token=token_b64, source=block)["token"]
                python_token = biscuit_auth.Biscuit.from_base64(token_b64, root.public_key)
            else:
                python_token = biscuit_auth.BiscuitBuilder(blocks[0]).build(root.private_key)
                for block in blocks[1:]:
                    python_token = python_token.append(biscuit_auth.BlockBuilder(block))
                token_b64 = python_token.to_base64()
        limits = {}
        if rng.random() < 0.1:
            limits = {"max_facts": rng.randint(5, 40), "max_iterations": rng.randint(1, 6)}
        theirs = python_outcome(authorizer, python_token, **limits)
        ours = swift.authorize(authorizer, token_b64, root_public, **limits) if blocks \
            else swift.authorize(authorizer, **limits)
        program = "\n---\n".join(blocks + [authorizer]) + (f"\nlimits: {limits}" if limits else "")
        assert ours == theirs, f"seed {SEED}, case {case}: Swift {ours}, biscuit-python {theirs}\n{program}"
        outcomes[ours.split(";")[0]] += 1
    print("biscuit differential outcomes:", dict(outcomes.most_common()))
    assert sum(outcomes.values()) == CASES
    assert outcomes["allow:0"] > 0 and len(outcomes) >= 4
