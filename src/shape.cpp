// The .Call entry behind deconvolution_shape() (R/shape.R): the shapes of an eager call
// on data of a given dim, without running it.
#include <Rinternals.h>

#include "convert.h"
#include "core/shape.h"
#include "r_boundary.h"

using namespace deconv;

extern "C" SEXP C_deconvolution_shape(SEXP data_dim, SEXP params) {
  return r::entry([&]() -> SEXP {
    const DeconvParams p = r::params_from_r(params);
    const Geometry g = r::eager_geometry(p, r::tuple_from_r(data_dim, "data"));
    Shape pad, adj;
    for (int i = 3 - g.rank; i < 3; ++i) {
      pad.push_back(g.pad[i]);
      adj.push_back(g.adj[i]);
    }
    return r::named_list({{"out", r::r_dim(g.out_shape, "data")},
                          {"weight", r::r_dim(g.weight_shape, "weight")},
                          {"bias", r::r_dim(g.bias_shape, "bias")},
                          {"pad", r::r_dim(pad, "pad")},
                          {"adj", r::r_dim(adj, "adj")}});
  });
}
