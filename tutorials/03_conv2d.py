# %% [markdown]
# # 3. Convolution: loops, im2col, and the two gradients
#
# A convolutional layer slides a small kernel over an image and, at every position, takes a dot
# product between the kernel and the window under it. (Deep-learning "convolution" does not flip
# the kernel: mathematically it is a cross-correlation.) This lesson writes it three ways, derives
# its backward pass, and checks minise's `conv2d` against all of it.

# %%
import os

import numpy as np
from lesson_figures import new_figure, show  # tutorials/lesson_figures.py: inline in Jupyter, a PNG file otherwise

import minise
import minise.functional as F
from minise import Tensor, nn, optim
from minise.data import DataLoader, Digits

FAST = os.environ.get("MINISE_FAST") == "1"
rng = np.random.default_rng(0)
# F is minise.functional; inside the array functions below, F is the number of kernels, as in the math.

# %% [markdown]
# ## The definition, as loops
#
# Shapes: x (N, C, H, W) images, w (F, C, kH, kW) one kernel per output channel, b (F,).
#
# $$y_{nfij} = b_f + \sum_c \sum_p \sum_q x^{pad}_{n,\,c,\,is + p,\,js + q}\; w_{fcpq}$$
#
# with $x^{pad}$ the input with P rows/columns of zeros on each side, s the stride. Output size
# (the last window must fit inside the padded image):
#
# $$H_o = \Big\lfloor \frac{H + 2P - k_H}{s} \Big\rfloor + 1$$

# %%
def conv_loops(x, w, b, stride=1, padding=0):
    N, _, H, W = x.shape
    F, _, kH, kW = w.shape
    x_pad = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    Ho, Wo = (H + 2 * padding - kH) // stride + 1, (W + 2 * padding - kW) // stride + 1
    y = np.zeros((N, F, Ho, Wo))
    for n in range(N):
        for f in range(F):
            for i in range(Ho):
                for j in range(Wo):
                    window = x_pad[n, :, i * stride:i * stride + kH, j * stride:j * stride + kW]  # (C, kH, kW)
                    y[n, f, i, j] = (window * w[f]).sum() + b[f]
    return y


x = rng.standard_normal((2, 3, 7, 7))
w = rng.standard_normal((4, 3, 3, 3))
b = rng.standard_normal(4)
y_loops = conv_loops(x, w, b, stride=2, padding=1)
print("y shape", y_loops.shape, "= (N, F, ⌊(7 + 2 − 3)/2⌋ + 1, ...)")
assert y_loops.shape == (2, 4, (7 + 2 - 3) // 2 + 1, (7 + 2 - 3) // 2 + 1)

# %% [markdown]
# ## im2col: the whole convolution as one matrix product
#
# The four nested loops do N·F·Ho·Wo small dot products of length K = C·kH·kW. Lay every window
# out as a column of a matrix `cols` (K rows, one column per output pixel): then all of them are
# one product, the operation a CPU or GPU does fastest:
#
#     cols (N, K, Ho·Wo)          cols[n, (c,p,q), (i,j)] = x_pad[n, c, i·s + p, j·s + q]
#     y = w_mat @ cols            w_mat = w reshaped to (F, K)          -> (N, F, Ho·Wo)
#
# Building `cols` needs only kH·kW strided slices of x_pad, one per kernel *tap* (p, q): the tap
# slice `x_pad[:, :, p::s, q::s]` (cut to Ho × Wo) holds, for every output pixel, the entry of its
# window at (p, q).

# %%
def im2col(x_pad, kH, kW, stride, Ho, Wo):
    N, C = x_pad.shape[:2]
    cols = np.empty((N, C, kH, kW, Ho, Wo))
    for p in range(kH):
        for q in range(kW):
            cols[:, :, p, q] = x_pad[:, :, p:p + stride * (Ho - 1) + 1:stride, q:q + stride * (Wo - 1) + 1:stride]
    return cols.reshape(N, C * kH * kW, Ho * Wo)                        # (N, K, Ho·Wo)


def conv_im2col(x, w, b, stride=1, padding=0):
    F, _, kH, kW = w.shape
    x_pad = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    Ho = (x.shape[2] + 2 * padding - kH) // stride + 1
    Wo = (x.shape[3] + 2 * padding - kW) // stride + 1
    cols = im2col(x_pad, kH, kW, stride, Ho, Wo)
    y = w.reshape(F, -1) @ cols + b[:, None]                            # (N, F, Ho·Wo)
    return y.reshape(len(x), F, Ho, Wo), cols


# %% [markdown]
# A picture makes the layout plain. One 5×5 image with values 0…24, a 3×3 kernel, stride 1: every
# output pixel (i, j) owns one column of `cols`, and that column is its window read row by row.

# %%
picture = np.arange(25.0).reshape(1, 1, 5, 5)
picture_cols = im2col(picture, 3, 3, 1, 3, 3)[0]                      # (9, 9): K = 1·3·3 rows, 3·3 columns
i, j = 1, 2
assert np.array_equal(picture_cols[:, i * 3 + j], picture[0, 0, i:i + 3, j:j + 3].ravel())

figure = new_figure(figsize=(9, 3.6))
if figure is not None:
    from matplotlib.patches import Rectangle
    left, right = figure.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.5]})
    for ax, data, title in ((left, picture[0, 0], "x (5×5)"), (right, picture_cols, "cols (K = 9 rows, Ho·Wo = 9 columns)")):
        ax.imshow(data, cmap="Blues", vmin=-5, vmax=30)
        for (r, c), v in np.ndenumerate(data):
            ax.text(c, r, f"{v:.0f}", ha="center", va="center", fontsize=8)
        ax.set(title=title, xticks=[], yticks=[])
    left.add_patch(Rectangle((j - 0.5, i - 0.5), 3, 3, fill=False, edgecolor="red", linewidth=2.5))
    right.add_patch(Rectangle((i * 3 + j - 0.5, -0.5), 1, 9, fill=False, edgecolor="red", linewidth=2.5))
    right.set_xlabel(f"column {i * 3 + j} = output pixel (i, j) = ({i}, {j})")
    show(figure, "03_im2col")

# %%
y_im2col, cols = conv_im2col(x, w, b, stride=2, padding=1)
y_minise = F.conv2d(Tensor(x), Tensor(w), Tensor(b), stride=2, padding=1).data
print("loops vs im2col:", np.abs(y_loops - y_im2col).max(), " loops vs minise:", np.abs(y_loops - y_minise).max())
assert np.allclose(y_loops, y_im2col) and np.allclose(y_loops, y_minise)

# %% [markdown]
# ## Deriving the backward pass
#
# In im2col form the layer is y = w_mat @ cols + b, a matrix product per image, and lesson 1
# derived the linear layer (here with the pixels playing the batch of samples):
#
# $$g_{b,f} = \sum_{n,i,j} g_{y,nfij} \qquad \text{b is added at every pixel of every image}$$
#
# $$g_{W} = \sum_n g_{y,n}\, \mathrm{cols}_n^\top \ \ (F, K) \qquad
#   g_{\mathrm{cols},n} = W^\top g_{y,n} \ \ (K, H_o W_o)$$
#
# with $W$ the kernels as an (F, K) matrix: every image uses the same kernels, so $g_W$ sums over
# the images. Element-wise, $g_{w,fcpq} = \sum_{n,i,j} g_{y,nfij}\, x^{pad}_{n,c,is+p,js+q}$: the
# correlation of the input with the output gradient.
#
# gcols is the gradient of the *copies* in `cols`. One input pixel was copied into every window
# that covers it, so, as with broadcasting, its gradient is the **sum** over its copies. This is
# col2im: for each tap, add its slice of gcols back into the same strided slice of gx_pad (+=,
# never =, because windows overlap), then cut off the padding. For stride 1 this equals a
# "full" correlation of gy with the kernel flipped in both spatial axes: that is where the flip
# of a true convolution reappears.

# %%
def conv_backward(gy, x, w, cols, stride=1, padding=0):
    N, F, Ho, Wo = gy.shape
    _, C, kH, kW = w.shape
    gy_mat = gy.reshape(N, F, Ho * Wo)                                   # (N, F, Ho·Wo)
    gb = gy.sum(axis=(0, 2, 3))                                          # (F,)
    gw = (gy_mat @ cols.transpose(0, 2, 1)).sum(axis=0).reshape(w.shape)  # (F, C, kH, kW)
    gcols = (w.reshape(F, -1).T @ gy_mat).reshape(N, C, kH, kW, Ho, Wo)   # (N, C, kH, kW, Ho, Wo)
    gx_pad = np.zeros((N, C, x.shape[2] + 2 * padding, x.shape[3] + 2 * padding))
    for p in range(kH):                                                  # col2im
        for q in range(kW):
            gx_pad[:, :, p:p + stride * (Ho - 1) + 1:stride, q:q + stride * (Wo - 1) + 1:stride] += gcols[:, :, p, q]
    return gx_pad[:, :, padding:padding + x.shape[2], padding:padding + x.shape[3]], gw, gb


gy = rng.standard_normal(y_loops.shape)
gx, gw, gb = conv_backward(gy, x, w, cols, stride=2, padding=1)
tx, tw, tb = (Tensor(a, requires_grad=True) for a in (x, w, b))
F.conv2d(tx, tw, tb, stride=2, padding=1).backward(gy)
for name, ours, theirs in [("gx", gx, tx.grad), ("gw", gw, tw.grad), ("gb", gb, tb.grad)]:
    print(f"{name}: ours vs minise, max difference {np.abs(ours - theirs).max():.1e}")
    assert np.allclose(ours, theirs)

# stride 1, no padding: gx is the "full" correlation of gy (padded by k − 1) with the flipped kernel,
# input and output channels swapped: w_flip[c, f, p, q] = w[f, c, kH − 1 − p, kW − 1 − q]
_, cols1 = conv_im2col(x, w, b)
gy1 = rng.standard_normal((2, 4, 5, 5))
gx1 = conv_backward(gy1, x, w, cols1)[0]
w_flip = w[:, :, ::-1, ::-1].transpose(1, 0, 2, 3)                   # (C, F, kH, kW)
full = conv_loops(gy1, w_flip, np.zeros(3), padding=2)               # (N, C, 7, 7)
print(f"stride 1: col2im vs full correlation with the flipped kernel, max difference {np.abs(gx1 - full).max():.1e}")
assert np.allclose(gx1, full)

# %% [markdown]
# And the proof that minise's backward is right does not depend on our derivation at all:
# finite differences in float64, against two random upstream gradients (lesson 2).

# %%
small = [Tensor(rng.standard_normal(s), requires_grad=True) for s in ((1, 2, 5, 5), (3, 2, 3, 3), (3,))]
print(minise.gradcheck(lambda a, k, c: F.conv2d(a, k, c, stride=2, padding=1), small, seed=0))

# %% [markdown]
# ## Dilation and groups, forward and backward
#
# Two more hyper-parameters, same machinery:
#
# * **dilation** d spaces the kernel taps d pixels apart: a 3×3 kernel with d = 2 sees a 5×5 area
#   with 9 weights. Tap (p, q) now reads
#
#   $$y_{nfij} = b_f + \sum_{c,p,q} x^{pad}_{n,c,\,is + pd,\,js + qd}\; w_{fcpq}, \qquad
#     H_o = \Big\lfloor \frac{H + 2P - d(k_H - 1) - 1}{s} \Big\rfloor + 1$$
#
# * **groups** G split the channels into G independent convolutions: output channel f sees only
#   the C/G input channels of its group, so w has shape (F, C/G, kH, kW). ResNeXt's 3×3 layers
#   are grouped with G = 32 (each group sees C/32 channels); the extreme G = C, one channel per
#   group, is a *depthwise* convolution (MobileNet).
#
# **Deriving the dilated backward.** Nothing in the derivation above used the tap's offset except
# to say *which* input element a column entry is a copy of. With dilation, entry (c, p, q) of the
# column of pixel (i, j) is a copy of $x^{pad}_{n,c,is+pd,js+qd}$, so the same two sums hold with
# p·d, q·d in place of p, q:
#
# $$g_{w,fcpq} = \sum_{n,i,j} g_{y,nfij}\; x^{pad}_{n,c,is+pd,js+qd} \qquad
#   g_{x^{pad}}[n, c, is+pd, js+qd] \mathrel{+}= \sum_f g_{y,nfij}\, w_{fcpq}$$
#
# In code: im2col and col2im slice tap (p, q) starting at (p·d, q·d) instead of (p, q).
#
# **Deriving the grouped backward.** Write the channels of group g as $C_g$ and its output channels
# as $F_g$. Output channel $f \in F_g$ is a convolution of the channels $C_g$ only, so
# $\partial y_{nf\cdot\cdot} / \partial x_{nc\cdot\cdot} = 0$ for $c \notin C_g$: the Jacobian is
# block-diagonal. Hence the input gradient of a channel in $C_g$ collects only the output
# channels $F_g$, and the weights of group g only see $C_g$:
#
# $$g_{x}[:, C_g] = \text{conv-backward}_x\big(g_y[:, F_g],\ w[F_g]\big), \qquad
#   g_{w}[F_g] = \text{conv-backward}_w\big(g_y[:, F_g],\ x[:, C_g]\big)$$
#
# G ordinary backward passes, each written into its own slice. Both, in NumPy:

# %%
def im2col_dilated(x_pad, kH, kW, stride, dilation, Ho, Wo):
    N, C = x_pad.shape[:2]
    cols = np.empty((N, C, kH, kW, Ho, Wo))
    for p in range(kH):
        for q in range(kW):
            top, left = p * dilation, q * dilation                        # the tap's offset: p·d, q·d
            cols[:, :, p, q] = x_pad[:, :, top:top + stride * (Ho - 1) + 1:stride,
                                     left:left + stride * (Wo - 1) + 1:stride]
    return cols.reshape(N, C * kH * kW, Ho * Wo)                        # (N, K, Ho·Wo)


def col2im_dilated(gcols, padded_shape, stride, dilation, tap_offset=True):
    N, C, kH, kW, Ho, Wo = gcols.shape
    gx_pad = np.zeros(padded_shape)
    for p in range(kH):
        for q in range(kW):
            top, left = (p * dilation, q * dilation) if tap_offset else (p, q)   # False: a planted bug
            gx_pad[:, :, top:top + stride * (Ho - 1) + 1:stride,
                   left:left + stride * (Wo - 1) + 1:stride] += gcols[:, :, p, q]   # +=: windows overlap
    return gx_pad


def make_conv(stride, padding, dilation, groups, tap_offset=True, own_group_slice=True):
    """forward(x, w) -> (y, cache) and backward(gy, cache) -> (gx, gw) for these hyper-parameters."""
    def forward(x, w):
        N, C, H, W = x.shape
        F, Cg, kH, kW = w.shape                                          # Cg = C / groups
        Fg = F // groups
        Ho = (H + 2 * padding - dilation * (kH - 1) - 1) // stride + 1
        Wo = (W + 2 * padding - dilation * (kW - 1) - 1) // stride + 1
        x_pad = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
        cols = [im2col_dilated(x_pad[:, g * Cg:(g + 1) * Cg], kH, kW, stride, dilation, Ho, Wo)
                for g in range(groups)]                                  # one (N, Cg·kH·kW, Ho·Wo) per group
        y = np.concatenate([w[g * Fg:(g + 1) * Fg].reshape(Fg, -1) @ cols[g] for g in range(groups)], axis=1)
        return y.reshape(N, F, Ho, Wo), (x_pad.shape, x.shape, w, cols)

    def backward(gy, cache):
        padded_shape, (N, C, H, W), w, cols = cache
        F, Cg, kH, kW = w.shape
        Fg, Ho, Wo = F // groups, gy.shape[2], gy.shape[3]
        gx_pad, gw = np.zeros(padded_shape), np.zeros(w.shape)
        for g in range(groups):                                          # G independent backward passes
            gy_g = gy[:, g * Fg:(g + 1) * Fg].reshape(N, Fg, Ho * Wo)
            gw[g * Fg:(g + 1) * Fg] = (gy_g @ cols[g].transpose(0, 2, 1)).sum(axis=0).reshape(Fg, Cg, kH, kW)
            gcols = (w[g * Fg:(g + 1) * Fg].reshape(Fg, -1).T @ gy_g).reshape(N, Cg, kH, kW, Ho, Wo)
            target = slice(g * Cg, (g + 1) * Cg) if own_group_slice else slice(0, Cg)   # False: a planted bug
            gx_pad[:, target] += col2im_dilated(gcols, (N, Cg) + padded_shape[2:], stride, dilation, tap_offset)
        return gx_pad[:, :, padding:padding + H, padding:padding + W], gw

    return forward, backward


hyper = dict(stride=1, padding=2, dilation=2, groups=2)
xg, wg = rng.standard_normal((2, 4, 7, 7)), rng.standard_normal((6, 2, 3, 3))    # C = 4, F = 6, C/G = 2
forward, backward = make_conv(**hyper)
yg, cache = forward(xg, wg)
txg, twg = Tensor(xg, requires_grad=True), Tensor(wg, requires_grad=True)
y_minise = F.conv2d(txg, twg, **hyper)
gy = rng.standard_normal(yg.shape)
y_minise.backward(gy)
gxg, gwg = backward(gy, cache)
print("dilation 2, groups 2:", yg.shape, " forward, gx, gw vs minise:",
      [f"{np.abs(a - b).max():.1e}" for a, b in ((yg, y_minise.data), (gxg, txg.grad), (gwg, twg.grad))])
assert np.allclose(yg, y_minise.data) and np.allclose(gxg, txg.grad) and np.allclose(gwg, twg.grad)

# %% [markdown]
# `check_backward` holds the derivation without minise: finite differences of our own forward.
# Each finite difference costs two forward passes per input element, so a large input takes long;
# `max_elements=k` checks a random sample of k elements of each input instead (the sample is drawn
# from `seed`, so a failure can be repeated). Here it checks 60 of x's 392 elements and 60 of w's
# 108, which is plenty to see a wrong derivation. Two planted bugs, one per derivation: col2im that
# forgets the dilation (tap offset p instead of p·d), and a grouped backward that piles every
# group's input gradient onto the first group's channels.

# %%
inputs = {"x": xg, "w": wg}
print(minise.check_backward(forward, backward, inputs, seed=0, max_elements=60))
for bug in ("tap_offset", "own_group_slice"):
    planted_forward, planted_backward = make_conv(**hyper, **{bug: False})
    report = minise.check_backward(planted_forward, planted_backward, inputs, seed=0, max_elements=60,
                                   raise_exception=False)
    print(f"planted bug ({bug} = False): x {'passed' if report['x'].passed else 'caught'}, "
          f"w {'passed' if report['w'].passed else 'caught'}")
    assert not report["x"].passed and report["w"].passed        # only gx's derivation was broken

# %% [markdown]
# And minise's own `conv2d`, gradchecked with the same hyper-parameters:

# %%
print(minise.gradcheck(lambda a, k: F.conv2d(a, k, **hyper), {"x": Tensor(xg, requires_grad=True),
                                                             "w": Tensor(wg, requires_grad=True)},
                       seed=1, max_elements=60))

# %% [markdown]
# ## minise's two convolutions: `impl="reference"` and the fast default
#
# `F.conv2d` has two implementations of the same three functions (forward, gx, gw), chosen with
# `impl=`:
#
# * `impl="reference"` (minise/functional/conv_reference.py) is this lesson's derivation written
#   tap by tap, without ever building `cols`: for each tap (p, q), the strided slice `x_tap` of
#   x_pad that the tap reads for every output pixel at once, and
#
#   $$y \mathrel{+}= W_{pq}\, x_{tap}, \qquad g_{w}[:, :, p, q] = \sum_{n,i,j} g_y\, x_{tap}, \qquad
#     g_{x^{pad}}[\text{tap slice}] \mathrel{+}= W_{pq}^\top g_y$$
#
#   with $W_{pq}$ = w[:, :, p, q] an (F, C) matrix (per group). A page of plain code you can read
#   against the formulas above, and a full implementation: it handles stride, padding, dilation
#   and groups, and trains.
# * `impl="fast"` (the default) builds im2col matrices a few images at a time, with shortcuts for
#   stride 1 and 1×1 kernels. minise's tests hold it to the reference.
#
# The two agree, forward and backward, on every kind of hyper-parameters:

# %%
cases = [dict(), dict(stride=2, padding=1), dict(padding=(2, 1), dilation=(2, 1)), dict(stride=2, groups=2),
         dict(padding=1, groups=4)]                                         # groups = C = 4: depthwise
xr, wr = rng.standard_normal((2, 4, 9, 8)), rng.standard_normal((4, 4, 3, 3))
for hyper_r in cases:
    w_here = wr[:, :4 // hyper_r.get("groups", 1)]                          # (F, C/G, kH, kW)
    gradients = {}
    for impl in ("fast", "reference"):
        ta, tk, tc = (Tensor(a, requires_grad=True) for a in (xr, w_here, b))
        out = F.conv2d(ta, tk, tc, impl=impl, **hyper_r)
        out.backward(np.cos(np.arange(out.size)).reshape(out.shape))        # the same upstream gradient for both
        gradients[impl] = [out.data, ta.grad, tk.grad, tc.grad]
    worst = max(np.abs(a - r).max() for a, r in zip(gradients["fast"], gradients["reference"]))
    print(f"{str(hyper_r) if hyper_r else 'defaults':<45} y, gx, gw, gb: fast vs reference, max difference {worst:.1e}")
    assert worst < 1e-10
print(minise.gradcheck(lambda a, k: F.conv2d(a, k, impl="reference", **hyper), {"x": Tensor(xg, requires_grad=True),
                                                                               "w": Tensor(wg, requires_grad=True)},
                       seed=2, max_elements=60))

# %% [markdown]
# `nn.Conv2d` always takes the fast path; a layer that takes the reference one is four lines. Two
# small networks from the same initial weights, trained for a few steps on the same batches of the
# bundled 8×8 digits (float64, so rounding does not blur the comparison), end on the same weights:

# %%
class ReferenceConv2d(nn.Conv2d):
    """nn.Conv2d computed with the readable tap loops."""

    def forward(self, x):
        return F.conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups,
                        impl="reference")


def small_net(conv):
    minise.manual_seed(0)
    return nn.Sequential(conv(1, 4, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 8 * 8, 10)).double()


steps = 3 if FAST else 10
trained = {}
for conv in (nn.Conv2d, ReferenceConv2d):
    net = small_net(conv)
    opt = optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
    for step, (images, labels) in enumerate(DataLoader(Digits(train=True), batch_size=32, shuffle=True, seed=0)):
        if step == steps:
            break
        loss = F.cross_entropy(net(Tensor(images.astype(np.float64))), Tensor(labels))
        opt.zero_grad()
        loss.backward()
        opt.step()
    trained[conv.__name__] = [p.data for p in net.parameters()], loss.item()
(fast_w, fast_loss), (ref_w, ref_loss) = trained["Conv2d"], trained["ReferenceConv2d"]
moved = max(np.abs(p - q.data).max() for p, q in zip(fast_w, small_net(nn.Conv2d).parameters()))
difference = max(np.abs(p - q).max() for p, q in zip(fast_w, ref_w))
print(f"{steps} SGD steps: weights moved by up to {moved:.3f}; fast vs reference weights differ by {difference:.1e}; "
      f"last loss {fast_loss:.4f} / {ref_loss:.4f}")
assert moved > 1e-3 and difference < 1e-10

# %% [markdown]
# Exercise: `tutorials/exercises/conv2d_backward.py` asks you to write gx, gw and gb yourself
# (tap by tap, as above), and `minise grade` checks them.
