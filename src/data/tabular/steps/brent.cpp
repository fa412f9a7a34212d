#include "data/tabular/steps/brent.h"

#include <cmath>
#include <utility>

#include "loom/core/error.h"

namespace loom::data::detail {
namespace {

struct Bracket {
  double xa, xb, xc, fa, fb, fc;
};

// scipy.optimize.bracket (grow_limit 110, maxiter 1000).
Bracket bracket(const std::function<double(double)>& f, double xa, double xb) {
  constexpr double kGold = 1.618034;
  constexpr double kVerySmall = 1e-21;
  constexpr double kGrowLimit = 110.0;
  constexpr int kMaxIter = 1000;
  double fa = f(xa), fb = f(xb);
  if (fa < fb) {
    std::swap(xa, xb);
    std::swap(fa, fb);
  }
  double xc = xb + kGold * (xb - xa);
  double fc = f(xc);
  int iter = 0;
  while (fc < fb) {
    const double tmp1 = (xb - xa) * (fb - fc);
    const double tmp2 = (xb - xc) * (fb - fa);
    const double val = tmp2 - tmp1;
    const double denom = std::abs(val) < kVerySmall ? 2.0 * kVerySmall : 2.0 * val;
    double w = xb - ((xb - xc) * tmp2 - (xb - xa) * tmp1) / denom;
    const double wlim = xb + kGrowLimit * (xc - xb);
    LOOM_CHECK(iter <= kMaxIter, "power: the search for lambda found no bracket after ", kMaxIter,
               " steps; the column may be degenerate");
    ++iter;
    double fw;
    if ((w - xc) * (xb - w) > 0.0) {
      fw = f(w);
      if (fw < fc)
        return {xb, w, xc, fb, fw, fc};
      if (fw > fb)
        return {xa, xb, w, fa, fb, fw};
      w = xc + kGold * (xc - xb);
      fw = f(w);
    } else if ((w - wlim) * (wlim - xc) >= 0.0) {
      w = wlim;
      fw = f(w);
    } else if ((w - wlim) * (xc - w) > 0.0) {
      fw = f(w);
      if (fw < fc) {
        xb = xc;
        xc = w;
        w = xc + kGold * (xc - xb);
        fb = fc;
        fc = fw;
        fw = f(w);
      }
    } else {
      w = xc + kGold * (xc - xb);
      fw = f(w);
    }
    xa = xb;
    xb = xc;
    xc = w;
    fa = fb;
    fb = fc;
    fc = fw;
  }
  return {xa, xb, xc, fa, fb, fc};
}

}  // namespace

double brent_minimize(const std::function<double(double)>& f, double xa_start, double xb_start) {
  constexpr double kTol = 1.48e-8;
  constexpr double kMinTol = 1.0e-11;
  constexpr double kCg = 0.3819660;
  constexpr int kMaxIter = 500;
  const Bracket br = bracket(f, xa_start, xb_start);
  double x = br.xb, w = br.xb, v = br.xb;
  double fx = br.fb, fw = br.fb, fv = br.fb;
  double a = br.xa < br.xc ? br.xa : br.xc;
  double b = br.xa < br.xc ? br.xc : br.xa;
  double deltax = 0.0, rat = 0.0;
  for (int iter = 0; iter < kMaxIter; ++iter) {
    const double tol1 = kTol * std::abs(x) + kMinTol;
    const double tol2 = 2.0 * tol1;
    const double xmid = 0.5 * (a + b);
    if (std::abs(x - xmid) < (tol2 - 0.5 * (b - a)))
      break;
    if (std::abs(deltax) <= tol1) {
      deltax = x >= xmid ? a - x : b - x;  // golden section step
      rat = kCg * deltax;
    } else {  // parabolic step
      const double tmp1 = (x - w) * (fx - fv);
      double tmp2 = (x - v) * (fx - fw);
      double p = (x - v) * tmp2 - (x - w) * tmp1;
      tmp2 = 2.0 * (tmp2 - tmp1);
      if (tmp2 > 0.0)
        p = -p;
      tmp2 = std::abs(tmp2);
      const double dx_temp = deltax;
      deltax = rat;
      if (p > tmp2 * (a - x) && p < tmp2 * (b - x) && std::abs(p) < std::abs(0.5 * tmp2 * dx_temp)) {
        rat = p * 1.0 / tmp2;
        const double u = x + rat;
        if ((u - a) < tol2 || (b - u) < tol2)
          rat = xmid - x >= 0 ? tol1 : -tol1;
      } else {
        deltax = x >= xmid ? a - x : b - x;
        rat = kCg * deltax;
      }
    }
    const double u = std::abs(rat) < tol1 ? (rat >= 0 ? x + tol1 : x - tol1) : x + rat;
    const double fu = f(u);
    if (fu > fx) {
      if (u < x)
        a = u;
      else
        b = u;
      if (fu <= fw || w == x) {
        v = w;
        w = u;
        fv = fw;
        fw = fu;
      } else if (fu <= fv || v == x || v == w) {
        v = u;
        fv = fu;
      }
    } else {
      if (u >= x)
        a = x;
      else
        b = x;
      v = w;
      w = x;
      x = u;
      fv = fw;
      fw = fx;
      fx = fu;
    }
  }
  return x;
}

}  // namespace loom::data::detail
