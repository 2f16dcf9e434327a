#!/usr/bin/env python3
"""Vector-register stack accesses per function of an x86-64 object, from `objdump -d -C` output.

Counts the instructions that move an xmm/ymm/zmm register to or from the stack: (%rsp), or (%rbp)
in a function that makes rbp its frame pointer (elsewhere rbp is an ordinary register, often an
output pointer). Those inside a loop are counted separately: an instruction is in a loop when it
lies on a cycle of the function's control-flow graph (instruction-level successors: the next
instruction unless it is an unconditional jump or a return, and a direct jump's target), so a
prologue's save and an epilogue's reload are told apart from the spills in a hot loop. Those in
an innermost loop (a loop with no loop inside it: the hot loops) are counted apart again, so that a
value reloaded once around each run of an inner loop, in the outer loop, is told apart from a spill
on every iteration. Loops nest as in the usual decomposition: a cycle's strongly connected
component, without the edges back into its header (the instruction entered from outside it, else
its first), splits into the loops inside it.

    objdump -d --no-show-raw-insn -C m.o | bench/stack_accesses.py
prints "total<TAB>in loops<TAB>in innermost loops<TAB>function" per function with any such
access, most first.
"""
import re
import sys

FUNC = re.compile(r"^[0-9a-f]+ <(.*)>:$")
INSN = re.compile(r"^\s*([0-9a-f]+):\s+(\S+)\s*(.*)$")
TARGET = re.compile(r"^([0-9a-f]+) <")
VECTOR = re.compile(r"%[xyz]mm[0-9]")


def components(addrs, succ):
    """The cycles' strongly connected components among addrs (non-trivial, or a self-loop)."""
    index, low, on_stack, stack, cyclic = {}, {}, set(), [], []
    counter = 0
    for root in addrs:
        if root in index:
            continue
        work = [(root, iter(succ[root]))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, it = work[-1]
            advanced = False
            for nxt in it:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(succ[nxt])))
                    advanced = True
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in succ[node]:
                    cyclic.append(set(component))
    return cyclic


def loop_nodes(addrs, succ):
    """(nodes on a cycle, nodes whose innermost enclosing loop has no loop inside it)."""
    order = {a: i for i, a in enumerate(addrs)}
    in_loop, innermost = set(), set()
    work = components(addrs, {a: [b for b in succ[a]] for a in addrs})
    while work:
        loop = work.pop()
        in_loop |= loop
        entered = [b for a in addrs if a not in loop for b in succ[a] if b in loop]
        header = min(entered or loop, key=order.get)
        inner_succ = {a: [b for b in succ[a] if b in loop and b != header] for a in loop}
        inner = components(sorted(loop, key=order.get), inner_succ)
        if not inner:
            innermost |= loop
        work.extend(inner)
    return in_loop, innermost


def count(name, insns):
    addrs = [a for a, _, _ in insns]
    known = set(addrs)
    succ = {}
    frame = False
    for i, (addr, op, args) in enumerate(insns):
        if op == "mov" and args.startswith("%rsp,%rbp"):
            frame = True
        nexts = []
        ends = op.startswith("ret") or op.startswith("jmp") or op == "ud2"
        if not ends and i + 1 < len(insns):
            nexts.append(insns[i + 1][0])
        if op.startswith("j"):
            m = TARGET.match(args)
            if m and int(m.group(1), 16) in known:
                nexts.append(int(m.group(1), 16))
        succ[addr] = nexts
    loops, innermost = loop_nodes(addrs, succ)
    total = in_loop = in_innermost = 0
    for addr, op, args in insns:
        if VECTOR.search(args) and ("(%rsp)" in args or (frame and "(%rbp)" in args)):
            total += 1
            in_loop += addr in loops
            in_innermost += addr in innermost
    return total, in_loop, in_innermost


def main():
    functions, name, insns = [], None, []
    for line in sys.stdin:
        m = FUNC.match(line.rstrip("\n"))
        if m:
            if name is not None:
                functions.append((name, insns))
            name, insns = m.group(1), []
            continue
        m = INSN.match(line)
        if m and name is not None:
            insns.append((int(m.group(1), 16), m.group(2), m.group(3)))
    if name is not None:
        functions.append((name, insns))
    rows = [(*count(n, i), n) for n, i in functions]
    for total, in_loop, in_innermost, n in sorted((r for r in rows if r[0]), key=lambda r: (-r[0], -r[1], r[3])):
        print(f"{total}\t{in_loop}\t{in_innermost}\t{n}")


if __name__ == "__main__":
    main()
