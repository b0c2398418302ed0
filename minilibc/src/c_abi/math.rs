//! `<math.h>`: the C names over the `libm` crate (a port of musl's libm,
//! accurate to within 1 ulp for the common functions). The `long double`
//! variants are C wrappers in crt/variadic.c that compute in double.

macro_rules! unary {
    ($($name:ident: $ty:ty),* $(,)?) => {
        $(
            #[no_mangle]
            pub extern "C" fn $name(x: $ty) -> $ty {
                libm::$name(x)
            }
        )*
    };
}

macro_rules! binary {
    ($($name:ident: $ty:ty),* $(,)?) => {
        $(
            #[no_mangle]
            pub extern "C" fn $name(x: $ty, y: $ty) -> $ty {
                libm::$name(x, y)
            }
        )*
    };
}

unary!(acos: f64, asin: f64, atan: f64, cos: f64, sin: f64, tan: f64, cosh: f64, sinh: f64, tanh: f64,
       acosh: f64, asinh: f64, atanh: f64, exp: f64, exp2: f64, exp10: f64, expm1: f64, log: f64, log10: f64,
       log2: f64, log1p: f64, sqrt: f64, cbrt: f64, ceil: f64, floor: f64, round: f64, trunc: f64,
       rint: f64, erf: f64, erfc: f64, tgamma: f64, lgamma: f64, j0: f64, j1: f64, y0: f64, y1: f64,
       acosf: f32, asinf: f32, atanf: f32, cosf: f32, sinf: f32, tanf: f32, coshf: f32, sinhf: f32,
       tanhf: f32, acoshf: f32, asinhf: f32, atanhf: f32, expf: f32, exp2f: f32, exp10f: f32, expm1f: f32,
       logf: f32, log10f: f32, log2f: f32, log1pf: f32, sqrtf: f32, cbrtf: f32, ceilf: f32, floorf: f32,
       roundf: f32, truncf: f32, rintf: f32, erff: f32, erfcf: f32, tgammaf: f32, lgammaf: f32);

binary!(atan2: f64, pow: f64, fmod: f64, remainder: f64, hypot: f64, copysign: f64, nextafter: f64,
        fmax: f64, fmin: f64, fdim: f64,
        atan2f: f32, powf: f32, fmodf: f32, remainderf: f32, hypotf: f32, copysignf: f32, nextafterf: f32,
        fmaxf: f32, fminf: f32, fdimf: f32);

#[no_mangle]
pub extern "C" fn fabs(x: f64) -> f64 {
    x.abs()
}
#[no_mangle]
pub extern "C" fn fabsf(x: f32) -> f32 {
    x.abs()
}
#[no_mangle]
pub extern "C" fn nearbyint(x: f64) -> f64 {
    libm::rint(x)
}
#[no_mangle]
pub extern "C" fn nearbyintf(x: f32) -> f32 {
    libm::rintf(x)
}
#[no_mangle]
pub extern "C" fn fma(x: f64, y: f64, z: f64) -> f64 {
    libm::fma(x, y, z)
}
#[no_mangle]
pub extern "C" fn fmaf(x: f32, y: f32, z: f32) -> f32 {
    libm::fmaf(x, y, z)
}
#[no_mangle]
pub extern "C" fn ldexp(x: f64, exponent: i32) -> f64 {
    libm::ldexp(x, exponent)
}
#[no_mangle]
pub extern "C" fn ldexpf(x: f32, exponent: i32) -> f32 {
    libm::ldexpf(x, exponent)
}
#[no_mangle]
pub extern "C" fn scalbn(x: f64, exponent: i32) -> f64 {
    libm::scalbn(x, exponent)
}
#[no_mangle]
pub extern "C" fn scalbnf(x: f32, exponent: i32) -> f32 {
    libm::scalbnf(x, exponent)
}
#[no_mangle]
pub extern "C" fn scalbln(x: f64, exponent: i64) -> f64 {
    libm::scalbn(x, exponent.clamp(i32::MIN as i64, i32::MAX as i64) as i32)
}
#[no_mangle]
pub extern "C" fn ilogb(x: f64) -> i32 {
    libm::ilogb(x)
}
#[no_mangle]
pub extern "C" fn logb(x: f64) -> f64 {
    if x == 0.0 {
        return f64::NEG_INFINITY;
    }
    if !x.is_finite() {
        return x * x;
    }
    libm::ilogb(x) as f64
}
#[no_mangle]
pub unsafe extern "C" fn frexp(x: f64, exponent: *mut i32) -> f64 {
    let (mantissa, power) = libm::frexp(x);
    // SAFETY: a writable int.
    unsafe { *exponent = power };
    mantissa
}
#[no_mangle]
pub unsafe extern "C" fn frexpf(x: f32, exponent: *mut i32) -> f32 {
    let (mantissa, power) = libm::frexpf(x);
    // SAFETY: a writable int.
    unsafe { *exponent = power };
    mantissa
}
#[no_mangle]
pub unsafe extern "C" fn modf(x: f64, integral: *mut f64) -> f64 {
    let (fraction, whole) = libm::modf(x);
    // SAFETY: a writable double.
    unsafe { *integral = whole };
    fraction
}
#[no_mangle]
pub unsafe extern "C" fn modff(x: f32, integral: *mut f32) -> f32 {
    let (fraction, whole) = libm::modff(x);
    // SAFETY: a writable float.
    unsafe { *integral = whole };
    fraction
}
#[no_mangle]
pub unsafe extern "C" fn remquo(x: f64, y: f64, quotient: *mut i32) -> f64 {
    let (remainder, bits) = libm::remquo(x, y);
    // SAFETY: a writable int.
    unsafe { *quotient = bits };
    remainder
}
#[no_mangle]
pub unsafe extern "C" fn lgamma_r(x: f64, sign: *mut i32) -> f64 {
    let (value, sign_value) = libm::lgamma_r(x);
    // SAFETY: a writable int.
    unsafe { *sign = sign_value };
    value
}
#[no_mangle]
pub unsafe extern "C" fn sincos(x: f64, sine: *mut f64, cosine: *mut f64) {
    let (s, c) = libm::sincos(x);
    // SAFETY: writable doubles.
    unsafe {
        *sine = s;
        *cosine = c;
    }
}
#[no_mangle]
pub extern "C" fn lround(x: f64) -> i64 {
    libm::round(x) as i64
}
#[no_mangle]
pub extern "C" fn llround(x: f64) -> i64 {
    libm::round(x) as i64
}
#[no_mangle]
pub extern "C" fn lrint(x: f64) -> i64 {
    libm::rint(x) as i64
}
#[no_mangle]
pub extern "C" fn llrint(x: f64) -> i64 {
    libm::rint(x) as i64
}
#[no_mangle]
pub extern "C" fn lroundf(x: f32) -> i64 {
    libm::roundf(x) as i64
}
#[no_mangle]
pub extern "C" fn lrintf(x: f32) -> i64 {
    libm::rintf(x) as i64
}
#[no_mangle]
pub extern "C" fn jn(order: i32, x: f64) -> f64 {
    libm::jn(order, x)
}
#[no_mangle]
pub extern "C" fn yn(order: i32, x: f64) -> f64 {
    libm::yn(order, x)
}
