#!/usr/bin/env bash
# Prepares what tools/gpu_check.sh needs on a bare GPU machine (nvcc, CMake and the CUDA
# libraries, but no GoogleTest, Eigen or R) and prints the device command and carry list.
# Runs here, on the development machine. See docs/gpu-check.md.
#
#   tools/gpu_check_prepare.sh [--r-size]
#
# Copies into build/gpu-carry (ignored by git; DECONV_GPU_CARRY changes it):
#   googletest/      the GoogleTest sources (Debian's googletest: /usr/src/googletest)
#   eigen3/Eigen/    the Eigen headers the core includes (libeigen3-dev: /usr/include/eigen3)
#   cudnn/include/   cuDNN's headers, used there only when the machine has the cuDNN
#                    library but no headers
#   MANIFEST.txt     where each came from, versions, sizes
# and checks that the working tree (tracked + untracked files git does not ignore) and the
# carry stay well under the device tool's 64 MiB. --r-size also measures what carrying R
# and the package's R dependencies would take (raw and xz-compressed; about a minute).
set -eu
cd "$(dirname "$0")/.."
carry=${DECONV_GPU_CARRY:-build/gpu-carry}
limit=$((64 * 1024 * 1024))
warn_at=$((48 * 1024 * 1024))

first_dir() { for d in "$@"; do [[ -d $d ]] && { echo "$d"; return 0; }; done; return 1; }
gtest_src=$(first_dir /usr/src/googletest /usr/src/gtest) || {
  echo "gpu_check_prepare: GoogleTest sources not found (apt-get install googletest)" >&2; exit 1; }
eigen_src=$(first_dir /usr/include/eigen3 /usr/local/include/eigen3) || {
  echo "gpu_check_prepare: Eigen not found (apt-get install libeigen3-dev)" >&2; exit 1; }
. tools/find_cuda.sh
cudnn_inc=""
if deconv_find_cuda; then cudnn_inc=$DECONV_CUDNN_INCDIR; fi

rm -rf "$carry"
mkdir -p "$carry/eigen3" "$carry/cudnn"
cp -a "$gtest_src" "$carry/googletest"
cp -a "$eigen_src/Eigen" "$carry/eigen3/Eigen"
[[ -f $eigen_src/signature_of_eigen3_matrix_library ]] && cp "$eigen_src/signature_of_eigen3_matrix_library" "$carry/eigen3/"
if [[ -n $cudnn_inc ]]; then
  mkdir -p "$carry/cudnn/include"
  cp "$cudnn_inc"/cudnn*.h "$carry/cudnn/include/"
  echo "$DECONV_CUDNN_VERSION" > "$carry/cudnn/VERSION"
fi

pkg_version() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo "?"; }
size() { du -sb "$1" | cut -f1; }
mib() { awk -v b="$1" 'BEGIN {printf "%.1f MiB", b / 1048576}'; }
{
  echo "googletest: $gtest_src (Debian googletest $(pkg_version googletest)), $(mib "$(size "$carry/googletest")")"
  echo "eigen3: $eigen_src/Eigen (Debian libeigen3-dev $(pkg_version libeigen3-dev)), $(mib "$(size "$carry/eigen3")")"
  if [[ -n $cudnn_inc ]]; then
    echo "cudnn headers: $cudnn_inc (cuDNN $DECONV_CUDNN_VERSION), $(mib "$(size "$carry/cudnn")")"
  else
    echo "cudnn headers: none (no cuDNN found here)"
  fi
  echo "prepared: $(date -u '+%Y-%m-%d %H:%M UTC') at commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
} > "$carry/MANIFEST.txt"

# What the device tool copies: tracked files and untracked ones git does not ignore.
tree_bytes=$(git ls-files -z --cached --others --exclude-standard |
  xargs -0 -r stat -c %s -- 2>/dev/null | awk '{s += $1} END {print s + 0}')
carry_bytes=$(size "$carry")
total=$((tree_bytes + carry_bytes))
echo "== carry folder $carry:"
sed 's/^/   /' "$carry/MANIFEST.txt"
echo "== sizes: working tree $(mib "$tree_bytes") + carry $(mib "$carry_bytes") = $(mib "$total") of the 64 MiB limit"
if ((total > limit)); then
  echo "gpu_check_prepare: over the 64 MiB the device tool carries" >&2; exit 1
elif ((total > warn_at)); then
  echo "gpu_check_prepare: warning: above 48 MiB, little room left" >&2
fi

if [[ ${1:-} == --r-size ]]; then
  # R_HOME without the recommended packages and translations, the R packages deconv
  # and test-gpu.R need (with their dependencies), and the shared libraries R links
  # beyond glibc and libstdc++ (the reference BLAS/LAPACK, not OpenBLAS).
  list=$(mktemp)
  Rscript -e '
    ip <- installed.packages()
    want <- c("jsonlite", "RcppEigen", "testthat", "withr", "callr", "png")
    d <- unique(c(want, unlist(tools::package_dependencies(want, db = ip,
      which = c("Depends", "Imports", "LinkingTo"), recursive = TRUE))))
    d <- setdiff(d, rownames(ip)[ip[, "Priority"] %in% "base"])
    cat(find.package(d), sep = "\n")' > "$list"
  rhome=$(R RHOME)
  for p in bin lib etc modules library/base library/compiler library/datasets library/grDevices \
           library/graphics library/grid library/methods library/parallel library/splines \
           library/stats library/stats4 library/tools library/utils; do
    echo "$rhome/$p"
  done >> "$list"
  echo /usr/share/R >> "$list"
  ldd "$rhome/lib/libR.so" "$rhome/bin/exec/R" | awk '{print $3}' | grep / |
    grep -vE 'libc\.so|libm\.so|libstdc|libgcc_s|ld-linux|libopenblas|libblas|liblapack' |
    sort -u | xargs -r readlink -f >> "$list"
  m=$(uname -m)
  for l in blas/libblas.so.3 lapack/liblapack.so.3; do
    [[ -e /usr/lib/$m-linux-gnu/$l ]] && readlink -f "/usr/lib/$m-linux-gnu/$l" >> "$list"
  done
  raw=$(tar -cf - -T "$list" 2>/dev/null | wc -c)
  xz=$(tar -cf - -T "$list" 2>/dev/null | xz -6 -T1 | wc -c)
  echo "== R for test-gpu.R: $(wc -l < "$list") paths (R $(R --version | head -n 1 | awk '{print $3}'), r-base-core $(pkg_version r-base-core)): $(mib "$raw") as a tar, $(mib "$xz") xz-compressed"
  echo "   with the tree and carry above: $(mib $((xz + total))) of 64 MiB; and it would need glibc >= $(ldd --version | head -n 1 | awk '{print $NF}') there,"
  echo "   relocation of R_HOME and a CUDA build of the package made there (R CMD INSTALL): not carried (docs/gpu-check.md)"
  rm -f "$list"
fi

cat <<EOF
== device command (the device tool's run: command, carry, timeout_s):
   command:   bash tools/gpu_check.sh "\$OUT" 1
   carry:     ["$carry"]
   timeout_s: 540
   (the script stops itself after 480 s; a rerun with SCALE 0.5 takes about half the suite's time)
EOF
