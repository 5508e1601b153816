// RUN: deltanet-opt %s --deltanet-cpu-apply-out-params-noalias -verify-diagnostics -o /dev/null

// A recorded position that is not a pointer: an error, not a bad attribute.
// expected-error @below {{argument 1 recorded as an out-param's data pointer is not a pointer}}
llvm.func @not_a_pointer(%p: !llvm.ptr, %n: i64) attributes {deltanet.noalias_arguments = array<i64: 1>, deltanet.llvm_argument_count = 2 : i64} {
  llvm.return
}
