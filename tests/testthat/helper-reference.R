# An independent direct-loop reference for Deconvolution, forward and backward, written
# from the definition: input position i meets kernel tap k at output o = i*s - p + k*d.
# It shares no code with the package: its own layout handling and output sizes.

# An array as a 5-d array with the spatial dims first, whatever the layout (channels-last
# arrays are permuted, missing spatial dims get size 1): data becomes c(w, h, d, C, N),
# the weight c(kw, kh, kd, F/G, C), out.grad c(w, h, d, F, N).
ref_canonical <- function(x, layout) {
  r <- length(dim(x)) - 2
  if (layout %in% c("NHWC", "NDHWC")) x <- aperm(x, c(seq_len(r) + 1, 1, r + 2))
  d <- dim(x)
  array(x, c(d[seq_len(r)], rep(1, 3 - r), d[r + 1], d[r + 2]))
}
# Back from canonical c(w, h, d, F, N) to the layout's R dims.
ref_from_canonical <- function(y, rank, layout) {
  d <- dim(y)
  y <- array(y, c(d[seq_len(rank)], d[4], d[5]))
  if (layout %in% c("NHWC", "NDHWC")) y <- aperm(y, c(rank + 1, seq_len(rank), rank + 2))
  y
}

# Effective per-dim geometry (R order, padded to 3) from the definition.
ref_geometry <- function(in_sp, kernel, stride, dilate, pad, adj, target) {
  r <- length(kernel)
  full <- stride * (in_sp - 1) + dilate * (kernel - 1) + 1
  use_target <- !is.null(target) && any(target != 0)
  out <- full - 2 * pad + adj
  if (use_target) {
    t <- full - target
    on <- target != 0
    pad[on] <- ceiling(t[on] / 2)
    out[on] <- target[on]
  }
  pad3 <- c(pad, rep(0, 3 - r))
  list(out = c(out, rep(1, 3 - r)), pad = pad3,
       stride = c(stride, rep(1, 3 - r)), dilate = c(dilate, rep(1, 3 - r)),
       kernel = c(kernel, rep(1, 3 - r)))
}

# Output indices (1-based, NA where outside) of tap k along one dim for all inputs.
ref_taps <- function(n_in, k, s, p, dl, n_out) {
  o <- (seq_len(n_in) - 1) * s - p + (k - 1) * dl
  ifelse(o >= 0 & o < n_out, o + 1, NA)
}

ref_setup <- function(a) {
  rank <- length(a$kernel)
  fill <- function(v, d) if (is.null(v)) rep(d, rank) else v
  layout <- if (is.null(a$layout)) c("NCW", "NCHW", "NCDHW")[rank] else a$layout
  x <- ref_canonical(a$data, layout)
  w <- ref_canonical(a$weight, layout)
  geo <- ref_geometry(dim(x)[seq_len(rank)], a$kernel, fill(a$stride, 1), fill(a$dilate, 1),
                      fill(a$pad, 0), fill(a$adj, 0), a$target.shape)
  G <- if (is.null(a$num.group)) 1 else a$num.group
  list(rank = rank, layout = layout, x = x, w = w, geo = geo, G = G, C = dim(x)[4],
       N = dim(x)[5], Fg = dim(w)[4], F = a$num.filter)
}

# Calls fn(n, c, f, fl, kw, kh, kd, iw, ih, id, ow, oh, od) for each (sample, input
# channel, filter f (fl within its group), tap) with the in/out index vectors of that tap's valid positions.
ref_each_tap <- function(s, fn) {
  g <- s$geo
  Cg <- s$C / s$G
  sp <- dim(s$x)[1:3]
  for (n in seq_len(s$N)) for (c in seq_len(s$C)) {
    grp <- (c - 1) %/% Cg
    for (fl in seq_len(s$Fg)) for (kd in seq_len(g$kernel[3])) for (kh in seq_len(g$kernel[2]))
      for (kw in seq_len(g$kernel[1])) {
        ow <- ref_taps(sp[1], kw, g$stride[1], g$pad[1], g$dilate[1], g$out[1])
        oh <- ref_taps(sp[2], kh, g$stride[2], g$pad[2], g$dilate[2], g$out[2])
        od <- ref_taps(sp[3], kd, g$stride[3], g$pad[3], g$dilate[3], g$out[3])
        iw <- which(!is.na(ow)); ih <- which(!is.na(oh)); id <- which(!is.na(od))
        if (!length(iw) || !length(ih) || !length(id)) next
        fn(n, c, grp * s$Fg + fl, fl, kw, kh, kd, iw, ih, id, ow[iw], oh[ih], od[id])
      }
  }
}

ref_deconvolution <- function(...) {
  a <- list(...)
  s <- ref_setup(a)
  y <- array(0, c(s$geo$out, s$F, s$N))
  ref_each_tap(s, function(n, c, f, fl, kw, kh, kd, iw, ih, id, ow, oh, od) {
    y[ow, oh, od, f, n] <<- y[ow, oh, od, f, n] + s$w[kw, kh, kd, fl, c] * s$x[iw, ih, id, c, n]
  })
  if (!is.null(a$bias)) for (f in seq_len(s$F)) y[, , , f, ] <- y[, , , f, ] + a$bias[f]
  ref_from_canonical(y, s$rank, s$layout)
}

# Gradients given out.grad (shaped as the output, in the layout's R dims).
ref_deconvolution_backward <- function(out.grad, ...) {
  a <- list(...)
  s <- ref_setup(a)
  dy <- ref_canonical(out.grad, s$layout)
  dx <- array(0, dim(s$x))
  dw <- array(0, dim(s$w))
  ref_each_tap(s, function(n, c, f, fl, kw, kh, kd, iw, ih, id, ow, oh, od) {
    g <- dy[ow, oh, od, f, n]
    dx[iw, ih, id, c, n] <<- dx[iw, ih, id, c, n] + s$w[kw, kh, kd, fl, c] * g
    dw[kw, kh, kd, fl, c] <<- dw[kw, kh, kd, fl, c] + sum(s$x[iw, ih, id, c, n] * g)
  })
  db <- if (!is.null(a$bias)) vapply(seq_len(s$F), function(f) sum(dy[, , , f, ]), 0)
  list(data = ref_from_canonical(dx, s$rank, s$layout),
       weight = ref_from_canonical(dw, s$rank, s$layout), bias = db)
}

# Largest absolute difference relative to the largest reference value.
rel_err <- function(got, want) {
  max(abs(got - want)) / max(abs(want), .Machine$double.xmin)
}
