"""A small Dockerfile reader: the stages, their bases and instructions, enough for the image tests.

It is not a full parser (no heredocs, no escape directive): the project's Dockerfile uses neither,
and a construct it cannot read fails loudly instead of being skipped.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Instruction:
    keyword: str  # upper case: FROM, RUN, COPY, ...
    arguments: str  # the rest of the logical line, continuations joined
    line: int  # 1-based line where the instruction starts

    def words(self) -> list[str]:
        return shlex.split(self.arguments)

    def exec_form(self) -> list[str] | None:
        """The JSON array of an exec-form ENTRYPOINT/CMD/RUN, or None for the shell form."""
        text = self.arguments.strip()
        if not text.startswith("["):
            return None
        value = json.loads(text)
        if not (isinstance(value, list) and all(isinstance(item, str) for item in value)):
            raise ValueError(f"line {self.line}: {self.keyword} is not a JSON array of strings")
        return value


@dataclass
class Stage:
    name: str | None  # `AS <name>`; None for an unnamed stage
    base: str  # the image or stage after FROM
    line: int
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[Instruction]:
        return [ins for ins in self.instructions if ins.keyword == keyword]

    def copy_sources(self) -> list[str]:
        """Context paths copied by COPY/ADD (not --from copies), options dropped."""
        sources: list[str] = []
        for ins in self.instructions:
            if ins.keyword not in {"COPY", "ADD"}:
                continue
            words = ins.words()
            if any(word.startswith("--from=") for word in words):
                continue
            paths = [word for word in words if not word.startswith("--")]
            sources += paths[:-1]  # the last path is the destination
        return sources

    def copy_from_stages(self) -> list[str]:
        return [
            word.split("=", 1)[1]
            for ins in self.all("COPY")
            for word in ins.words()
            if word.startswith("--from=")
        ]

    def labels(self) -> dict[str, str]:
        labels: dict[str, str] = {}
        for ins in self.all("LABEL"):
            for word in ins.words():
                key, sep, value = word.partition("=")
                if not sep:
                    raise ValueError(f"line {ins.line}: LABEL needs key=value pairs, got {word!r}")
                labels[key] = value
        return labels


_FROM = re.compile(r"^(?:--platform=\S+\s+)?(?P<base>\S+)(?:\s+AS\s+(?P<name>\S+))?$", re.IGNORECASE)


def logical_lines(text: str) -> list[tuple[int, str]]:
    """(first line number, instruction text) with comments dropped and `\\` continuations joined."""
    result: list[tuple[int, str]] = []
    buffer: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if stripped.startswith("#") or (not stripped and not buffer):
            continue  # comments may sit inside a continued instruction, as in Docker
        if not buffer:
            start = number
        if stripped.endswith("\\"):
            buffer.append(stripped[:-1].strip())
            continue
        buffer.append(stripped)
        result.append((start, " ".join(part for part in buffer if part)))
        buffer = []
    if buffer:
        raise ValueError(f"line {start}: the last instruction ends with a line continuation")
    return result


def parse(text: str) -> tuple[list[Instruction], list[Stage]]:
    """The global instructions (ARGs before the first FROM) and the stages, in order."""
    global_instructions: list[Instruction] = []
    stages: list[Stage] = []
    for line, content in logical_lines(text):
        keyword, _, arguments = content.partition(" ")
        instruction = Instruction(keyword.upper(), arguments.strip(), line)
        if instruction.keyword == "FROM":
            match = _FROM.match(instruction.arguments)
            if not match:
                raise ValueError(f"line {line}: cannot read FROM {instruction.arguments!r}")
            stages.append(Stage(match["name"], match["base"], line))
        elif stages:
            stages[-1].instructions.append(instruction)
        else:
            global_instructions.append(instruction)
    return global_instructions, stages


def read(path: Path) -> list[Stage]:
    return parse(path.read_text(encoding="utf-8"))[1]


def ancestry(stages: list[Stage], name: str) -> list[Stage]:
    """The stage called `name` and the stages it is built FROM, nearest first."""
    by_name = {stage.name: stage for stage in stages if stage.name}
    chain: list[Stage] = []
    current: str | None = name
    while current in by_name:
        stage = by_name[current]
        if stage in chain:
            raise ValueError(f"stage {name!r}: FROM loops through {current!r}")
        chain.append(stage)
        current = stage.base
    if not chain:
        raise KeyError(f"no stage named {name!r}")
    return chain
