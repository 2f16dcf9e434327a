// The --fp fused math (kc2cpp_math.h functions with Fused = true), one X(name, expression in x)
// per function, x of type V (vf or float) in a scope where `kc` is the runtime's namespace.
// variant.cpp builds them into every variant with a hardware FMA; runtime_bitexact_test.cpp
// compares them with the host float path, whose fma is std::fmaf when the host has none.
#ifndef KC2CPP_TESTS_RUNTIME_FUSED_OPS_H
#define KC2CPP_TESTS_RUNTIME_FUSED_OPS_H

#define KC_FUSED_MATH_OPS(X)                      \
  X("exp@fused", kc::exp<true>(x))                \
  X("expm1@fused", kc::expm1<true>(x))            \
  X("tanh@fused", kc::tanh<true>(x))              \
  X("sigmoid@fused", kc::sigmoid<true>(x))        \
  X("erf@fused", kc::erf<true>(x))                \
  X("elu@fused", kc::elu<true>(x, 1.0f))          \
  X("elu_half@fused", kc::elu<true>(x, 0.5f))     \
  X("selu@fused", kc::selu<true>(x))              \
  X("softplus@fused", kc::softplus<true>(x))      \
  X("exponential@fused", kc::exponential<true>(x)) \
  X("silu@fused", kc::silu<true>(x))              \
  X("gelu@fused", kc::gelu<true>(x))              \
  X("gelu_tanh@fused", kc::gelu_tanh<true>(x))    \
  X("mish@fused", kc::mish<true>(x))

#endif  // KC2CPP_TESTS_RUNTIME_FUSED_OPS_H
