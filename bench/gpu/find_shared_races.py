#!/usr/bin/env python3
"""Finds shared-memory write/read pairs that no barrier orders (a rough check).

Reads the IR printed after deltanet-gpu-workgroup-allocs-to-dynamic-shared
(views of the dynamic shared memory at constant byte offsets) and reports,
per gpu.launch, pairs of top-level ops of the launch body with no
gpu.barrier between them whose views are different allocations with
overlapping byte ranges, one of them written (memref.store,
vector.transfer_write, vector.store, the target of a cp.async). Textual and
approximate (views are followed through subview / reshape / cast; an op
that reads and writes counts as both): a diagnostic, not a proof.

  deltanet-opt bench/gpu/gdr.mlir --deltanet-gpu-pipeline="eliminate-barriers=true" \\
    --mlir-print-ir-after=deltanet-gpu-workgroup-allocs-to-dynamic-shared -o /dev/null 2> eb.mlir
  python3 bench/gpu/find_shared_races.py eb.mlir
"""
import re, sys
s=open(sys.argv[1]).read()
consts=dict(re.findall(r'(%c\w*) = arith.constant (\d+) : index', s))
launches=s.split('gpu.launch blocks')[1:]
def nbytes(t):
    m=re.match(r'memref<([\dx]+)x(f32|bf16|f16|i8|i32)',t)
    if not m: return 0
    n=1
    for d in m.group(1).split('x'): n*=int(d)
    return n*{'f32':4,'bf16':2,'f16':2,'i8':1,'i32':4}[m.group(2)]
for li,p in enumerate(launches):
    body=p.split('gpu.terminator')[0]
    lines=body.split('\n')
    root={}; rng={}
    for l in lines:
        m=re.search(r'(%view\w*) = memref.view %\w+\[(%\w+)\]\[\] : .*? to (memref<[^>]*>)',l)
        if m:
            off=int(consts.get(m.group(2),'-1')); root[m.group(1)]=m.group(1); rng[m.group(1)]=(off,off+nbytes(m.group(3)))
        m=re.search(r'(%\w+) = memref.(subview|collapse_shape|expand_shape|cast) (%\w+)',l)
        if m and m.group(3) in root: root[m.group(1)]=root[m.group(3)]
    # top-level segmentation (indent 6)
    tops=[]; cur=None
    for l in lines:
        ind=len(l)-len(l.lstrip())
        if ind==6 and l.strip():
            cur=[l]; tops.append(cur)
        elif cur is not None: cur.append(l)
    acc=[]
    for t in tops:
        txt='\n'.join(t)
        if t[0].strip()=='gpu.barrier': acc.append('B'); continue
        R=set();W=set()
        for l in t:
            vs=[v for v in re.findall(r'%\w+',l) if v in root]
            if not vs: continue
            if re.search(r'memref.store|transfer_write|vector.store',l):
                # destination is the last memref operand before ':' roughly: first root var after the value
                W.add(root[vs[-1]] if 'memref.store' in l or 'vector.store' in l else root[vs[-1]])
                for v in vs[:-1]: R.add(root[v])
            elif 'device_async_copy' in l:
                W.add(root[vs[-1]]) if len(vs)>1 else None
                if len(vs)>1: R.add(root[vs[0]])
                else: W.add(root[vs[0]])
            elif re.search(r'memref.subview|memref.view|collapse_shape|expand_shape',l):
                continue
            else:
                for v in vs: R.add(root[v])
        acc.append((R,W,t[0].strip()[:80]))
    # pairs within a barrier-free window... check across all pairs with no barrier between
    n=len(acc)
    for i in range(n):
        if acc[i]=='B': continue
        for j in range(i+1,n):
            if acc[j]=='B': break
            Ri,Wi,_=acc[i]; Rj,Wj,_=acc[j]
            for a in Ri|Wi:
                for b in Rj|Wj:
                    if a==b: continue
                    if not (a in Wi or b in Wj): continue
                    ra,rb=rng[a],rng[b]
                    if ra[0]<rb[1] and rb[0]<ra[1]:
                        print(f'launch {li}: top op {i} ({"W" if a in Wi else "R"} {a} {ra}) and op {j} ({"W" if b in Wj else "R"} {b} {rb}) overlap, no barrier between\n    {acc[i][2]}\n    {acc[j][2]}')
