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

import minise
import minise.functional as F
from minise import Tensor
from lesson_figures import new_figure, show          # tutorials/lesson_figures.py: inline in Jupyter, a PNG file otherwise

FAST = os.environ.get("MINISE_FAST") == "1"
rng = np.random.default_rng(0)
# F is minise.functional; inside the array functions below, F is the number of kernels, as in the math.

# %% [markdown]
# ## The definition, as loops
#
# Shapes: x (N, C, H, W) images, w (F, C, kH, kW) one kernel per output channel, b (F,).
#
#     y[n, f, i, j] = b[f] + Σ_c Σ_p Σ_q x_pad[n, c, i·s + p, j·s + q] · w[f, c, p, q]
#
# with x_pad the input with P rows/columns of zeros on each side, s the stride. Output size:
#
#     Ho = ⌊(H + 2P − kH) / s⌋ + 1        (the last window must fit inside the padded image)

# %%
def conv_loops(x, w, b, stride=1, padding=0):
    N, C, H, W = x.shape
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
    F, C, kH, kW = w.shape
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
# In im2col form the layer is y = w_mat @ cols + b, a matrix product per image, and we know
# matrix products (a fully connected layer, with the pixels playing the batch of samples):
#
#     gb[f]  = Σ_{n,i,j} gy[n, f, i, j]                    b is added at every pixel of every image
#     gw_mat = Σ_n gy_n @ cols_nᵀ          (F, K)          every image uses the same kernels
#     gcols  = w_matᵀ @ gy_n               (N, K, Ho·Wo)   gradient of every window entry
#
# Element-wise, gw[f,c,p,q] = Σ_{n,i,j} gy[n,f,i,j] · x_pad[n, c, i·s+p, j·s+q]: the correlation
# of the input with the output gradient.
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

# %% [markdown]
# And the proof that minise's backward is right does not depend on our derivation at all:
# finite differences, random upstream gradient, float64.

# %%
small = [Tensor(rng.standard_normal(s), requires_grad=True) for s in ((1, 2, 5, 5), (3, 2, 3, 3), (3,))]
print(minise.gradcheck(lambda a, k, c: F.conv2d(a, k, c, stride=2, padding=1), small, seed=0))

# %% [markdown]
# ## Dilation and groups
#
# Two more hyper-parameters, same machinery:
#
# * **dilation** d spaces the kernel taps d pixels apart, tap (p, q) reads x_pad[.., i·s + p·d,
#   j·s + q·d]: a 3×3 kernel with d = 2 sees a 5×5 area with 9 weights. The output size becomes
#   Ho = ⌊(H + 2P − d·(kH − 1) − 1) / s⌋ + 1.
# * **groups** G split the channels into G independent convolutions: output channel f sees only
#   the C/G input channels of its group, so w has shape (F, C/G, kH, kW). ResNeXt's 3×3 layers
#   are grouped with G = 32 (each group sees C/32 channels); the extreme G = C, one channel per
#   group, is a *depthwise* convolution (MobileNet). minise runs a grouped convolution as G
#   im2col products side by side.

# %%
xg = Tensor(rng.standard_normal((1, 4, 9, 9)), requires_grad=True)
wg = Tensor(rng.standard_normal((6, 2, 3, 3)), requires_grad=True)           # groups=2: C/G = 2
yg = F.conv2d(xg, wg, dilation=2, groups=2, padding=2)
print("dilation 2, groups 2:", yg.shape)
# group 0 (output channels 0..2) must not depend on input channels 2..3: check it by hand
only_first = F.conv2d(Tensor(xg.data[:, :2]), Tensor(wg.data[:3]), dilation=2, padding=2).data
assert np.allclose(yg.data[:, :3], only_first)
print(minise.gradcheck(lambda a, k: F.conv2d(a, k, dilation=2, groups=2, padding=2),
                       [Tensor(xg.data[:, :, :5, :5], requires_grad=True), wg], seed=1, max_elements=30))

# %% [markdown]
# Exercise: `tutorials/exercises/conv2d_backward.py` asks you to write gx, gw and gb yourself
# (tap by tap, as above), and `minise grade` checks them.
