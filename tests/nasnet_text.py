"""The text of examples/nasnet_mobile.arch and nasnet_large.arch, written out from the
arguments of keras.src.applications.nasnet.NASNet (tests/test_graphs.py checks the files
equal it, and both equal Keras)."""


def nasnet_text(large: bool) -> str:
    pen, blocks, stem, mult, skip, size = (4032, 6, 96, 2, True, 331) if large else (1056, 4, 32, 2, False, 224)
    filters = pen // 24
    lines = []
    add = lines.append
    if large:
        add("# NASNet-A Large (Zoph et al. 2018; keras.applications.NASNetLarge, include_top=True):")
        add("# 88,949,818 parameters under keras, of which 196,668 non-trainable (BatchNorm moving")
        add("# statistics), 88,753,150 trainable. skip_reduction: the cell after a reduction reads the")
        add("# reduction's second input, not its first. Every cell reads two earlier cells' outputs:")
    else:
        add("# NASNet-A Mobile (Zoph et al. 2018; keras.applications.NASNetMobile, include_top=True):")
        add("# 5,326,716 parameters under keras, of which 36,738 non-trainable (BatchNorm moving")
        add("# statistics), 5,289,978 trainable. Every cell reads the outputs of the two cells before it:")
    add("# x_i is cell i's output, h_i its 1x1 squeeze of x_(i-1), q_i its adjusted copy of x_(i-2)")
    add("# (strided halves when the sizes differ, a 1x1 projection when the widths do; none in")
    add("# the first cell, which reads the stem twice). Keras pads a stride-2 layer by hand")
    add("# (ZeroPadding2D + 'valid'); p=same gives the same sizes, and padding has no parameters.")
    add("# The two strided paths of the adjustment differ only by a one-pixel shift (pad + crop).")
    add("sep(f, k) = relu-SC(f,k,p=same,bias=false)-BN-relu-SC(f,k,p=same,bias=false)-BN")
    add("sep2(f, k) = relu-SC(f,k,s=2,p=same,bias=false)-BN-relu-SC(f,k,p=same,bias=false)-BN")
    add("squeeze(f) = relu-C(f,1,p=same,bias=false)-BN")
    add("halves(f) = relu-[A(1,s=2)-C(f/2,1,bias=false) | A(1,s=2)-C(f/2,1,bias=false)]-BN")
    add("project(f) = relu-C(f,1,p=same,bias=false)-BN")
    add("normal(h, q, f) = [q | [h-sep(f,5) + q-sep(f,3)] | [q-sep(f,5) + q-sep(f,3)] | [h-A(3,s=1,p=same) + q]")
    add("                  | [q-A(3,s=1,p=same) + q-A(3,s=1,p=same)] | [h-sep(f,3) + h]]")
    add("x0 := I(%d,%d,3)-C(%d,3,s=2,bias=false)-BN" % (size, size, stem))
    # shapes to choose the adjustment: (size, channels)
    shape = {0: ((size - 3) // 2 + 1, stem)}
    i = 0
    def cell(kind, f, ip, p):
        nonlocal i
        i += 1
        n = i
        out = [f"# cell {n}: {kind}, {f} filters"]
        ps, pc = shape[p]
        is_, ic = shape[ip]
        if p == ip and n == 1:
            q = f"x{p}"
        elif ps != is_:
            out.append(f"q{n} := x{p}-halves({f})"); q = f"q{n}"
        elif pc != f:
            out.append(f"q{n} := x{p}-project({f})"); q = f"q{n}"
        else:
            q = f"x{p}"
        out.append(f"h{n} := x{ip}-squeeze({f})")
        h = f"h{n}"
        if kind == "normal":
            out.append(f"x{n} := normal({h}, {q}, {f})")
            shape[n] = (is_, 6 * f)
        else:
            out.append(f"a{n} := [{h}-sep2({f},5) + {q}-sep2({f},7)]")
            out.append(f"b{n} := [{h}-P(3,s=2,p=same) + {q}-sep2({f},7)]")
            out.append(f"x{n} := [b{n} | [{h}-A(3,s=2,p=same) + {q}-sep2({f},5)] | [a{n}-A(3,s=1,p=same) + b{n}]")
            out.append(f"       | [a{n}-sep({f},3) + {h}-P(3,s=2,p=same)]]")
            shape[n] = ((is_ + 1) // 2, 4 * f)
        lines.extend(out)
        return n
    x, p = 0, 0
    def step(kind, f, keep=False):
        nonlocal x, p
        n = cell(kind, f, x, p)
        p, x = (p if keep else x), n
    step("reduction", filters // mult**2)
    step("reduction", filters // mult)
    for _ in range(blocks): step("normal", filters)
    step("reduction", filters * mult, skip)
    for _ in range(blocks): step("normal", filters * mult)
    step("reduction", filters * mult**2, skip)
    for _ in range(blocks): step("normal", filters * mult**2)
    add(f"x{x}-relu-GAP-O(1000)")
    return "\n".join(lines) + "\n"
