"""Print the plant parameter table (Markdown) from the schema: `python -m host_tools.plant.doc`.

docs/plant.md embeds this output; tests/test_plant_docs.py checks it is current.
"""

from host_tools.plant.params import SCHEMA


def table() -> str:
    lines = ["| parameter | default | unit | allowed | meaning |", "|---|---|---|---|---|"]
    for section, items in SCHEMA.items():
        for key, p in items.items():
            allowed = " \\| ".join(p.choices) if p.choices else f"{p.low:g} .. {p.high:g}"
            default = p.default if isinstance(p.default, str) else f"{p.default:g}"
            lines.append(f"| `{section}.{key}` | {default} | {p.unit} | {allowed} | {p.doc} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(table())
