// The deltanet C API from C: register, parse, run pipelines, print, errors;
// the upstream MLIR C API (libDeltaNetMLIRCAPI.so) on the same libMLIR.so.
// RUN: deltanet-capi-test 2>&1 | FileCheck %s

#include "deltanet-c/Dialects.h"
#include "deltanet-c/Passes.h"
#include "mlir-c/BuiltinAttributes.h"
#include "mlir-c/BuiltinTypes.h"
#include "mlir-c/Diagnostics.h"
#include "mlir-c/Dialect/Func.h"
#include "mlir-c/IR.h"
#include "mlir-c/Pass.h"
#include "mlir-c/RegisterEverything.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void printToStdout(MlirStringRef text, void *userData) {
  (void)userData;
  fwrite(text.data, 1, text.length, stdout);
}

static MlirLogicalResult printDiagnostic(MlirDiagnostic diagnostic,
                                         void *userData) {
  (void)userData;
  printf("diagnostic: ");
  mlirDiagnosticPrint(diagnostic, printToStdout, NULL);
  printf("\n");
  return mlirLogicalResultSuccess();
}

static const char *kTriInv =
    "func.func @inv(%a: tensor<4x32x32xf32>) -> tensor<4x32x32xf32> "
    "attributes {llvm.emit_c_interface} {\n"
    "  %x = deltanet.tri_inv %a : tensor<4x32x32xf32>\n"
    "  return %x : tensor<4x32x32xf32>\n"
    "}\n";

static MlirModule parse(MlirContext ctx, const char *source) {
  return mlirModuleCreateParse(ctx, mlirStringRefCreateFromCString(source));
}

static void printModule(MlirModule module) {
  mlirOperationPrint(mlirModuleGetOperation(module), printToStdout, NULL);
  printf("\n");
}

/// Appends printed IR to a growing buffer. The printer calls back once per
/// token, so the buffer grows geometrically: a realloc per call copies the
/// whole text every time under ASan (its realloc never extends in place),
/// which had not finished after 18 minutes for the lowered module below.
struct Buffer {
  char *data;
  size_t size;
  size_t capacity;
};

static void appendToBuffer(MlirStringRef text, void *userData) {
  struct Buffer *buffer = (struct Buffer *)userData;
  if (buffer->size + text.length + 1 > buffer->capacity) {
    size_t capacity = buffer->capacity ? 2 * buffer->capacity : 4096;
    while (capacity < buffer->size + text.length + 1)
      capacity *= 2;
    char *data = realloc(buffer->data, capacity);
    if (!data) {
      fprintf(stderr, "out of memory\n");
      exit(1);
    }
    buffer->data = data;
    buffer->capacity = capacity;
  }
  memcpy(buffer->data + buffer->size, text.data, text.length);
  buffer->size += text.length;
  buffer->data[buffer->size] = '\0';
}

/// Prints which of a few ops the (large) lowered module contains.
static void summarize(MlirModule module) {
  struct Buffer buffer = {NULL, 0, 0};
  mlirOperationPrint(mlirModuleGetOperation(module), appendToBuffer, &buffer);
  const char *needles[] = {"deltanet.tri_inv", "linalg.batch_matmul",
                           "llvm.func @inv(", "llvm.func @_mlir_ciface_inv("};
  for (size_t i = 0; i < sizeof(needles) / sizeof(needles[0]); ++i)
    printf("  %s: %s\n", needles[i],
           buffer.data && strstr(buffer.data, needles[i]) ? "yes" : "no");
  free(buffer.data);
}

static void runPipeline(MlirModule module, const char *pipeline) {
  printf("run '%s'\n", pipeline);
  MlirLogicalResult result = mlirDeltaNetRunPassPipeline(
      mlirModuleGetOperation(module), mlirStringRefCreateFromCString(pipeline),
      printToStdout, NULL);
  printf("-> %s\n", mlirLogicalResultIsSuccess(result) ? "success" : "failure");
}

static void runCpuPipeline(MlirModule module, const char *options) {
  printf("cpu pipeline '%s'\n", options);
  MlirLogicalResult result = mlirDeltaNetRunCpuPipeline(
      mlirModuleGetOperation(module), mlirStringRefCreateFromCString(options),
      printToStdout, NULL);
  printf("-> %s\n", mlirLogicalResultIsSuccess(result) ? "success" : "failure");
}

int main(void) {
  // Unbuffered, so that LLVM's messages on stderr interleave in order.
  setvbuf(stdout, NULL, _IONBF, 0);
  // Registration, one call each.
  MlirDialectRegistry registry = mlirDialectRegistryCreate();
  MlirDialectHandle handle = mlirGetDialectHandle__deltanet__();
  MlirStringRef ns = mlirDialectHandleGetNamespace(handle);
  printf("dialect handle: %.*s\n", (int)ns.length, ns.data);
  // CHECK: dialect handle: deltanet
  mlirDialectHandleInsertDialect(handle, registry);
  mlirDeltaNetRegisterDialect(registry);
  mlirDeltaNetRegisterCpuPipelineDependencies(registry);
  mlirDeltaNetRegisterPasses();
  mlirDeltaNetRegisterPipelines();
  mlirRegisterAllPasses(); // upstream passes, for `canonicalize` below

  MlirContext ctx = mlirContextCreateWithRegistry(registry, false);
  mlirDialectRegistryDestroy(registry);
  MlirDialect dialect = mlirDialectHandleLoadDialect(handle, ctx);
  MlirStringRef loaded = mlirDialectGetNamespace(dialect);
  printf("loaded: %.*s\n", (int)loaded.length, loaded.data);
  // CHECK: loaded: deltanet
  MlirDiagnosticHandlerID diagHandler =
      mlirContextAttachDiagnosticHandler(ctx, printDiagnostic, NULL, NULL);

  // Parse and print.
  MlirModule module = parse(ctx, kTriInv);
  if (mlirModuleIsNull(module))
    return 1;
  printf("verified: %d\n", mlirOperationVerify(mlirModuleGetOperation(module)));
  printModule(module);
  // CHECK: verified: 1
  // CHECK: func.func @inv(%{{.*}}: tensor<4x32x32xf32>)
  // CHECK:   deltanet.tri_inv %{{.*}} : tensor<4x32x32xf32>

  // A named pass with options, unanchored.
  runPipeline(module, "deltanet-lower-tri-inv{strategy=neumann},canonicalize");
  summarize(module);
  // CHECK-LABEL: run 'deltanet-lower-tri-inv{strategy=neumann},canonicalize'
  // CHECK-NEXT: -> success
  // CHECK-NEXT: deltanet.tri_inv: no
  // CHECK-NEXT: linalg.batch_matmul: yes
  // CHECK-NEXT: llvm.func @inv(: no
  mlirModuleDestroy(module);

  // The CPU pipeline, anchored, with options, down to the LLVM dialect.
  module = parse(ctx, kTriInv);
  runPipeline(module, "builtin.module(deltanet-cpu-pipeline{"
                      "tri-inv-strategy=blocked tri-inv-block-size=8})");
  summarize(module);
  // CHECK-LABEL: run 'builtin.module(deltanet-cpu-pipeline{
  // CHECK-NEXT: -> success
  // CHECK-NEXT: deltanet.tri_inv: no
  // CHECK-NEXT: linalg.batch_matmul: no
  // CHECK-NEXT: llvm.func @inv(: yes
  // CHECK-NEXT: llvm.func @_mlir_ciface_inv(: yes
  mlirModuleDestroy(module);

  // The CPU pipeline through its dedicated entry point.
  module = parse(ctx, kTriInv);
  runCpuPipeline(module, "tri-inv-strategy=forward-substitution");
  // CHECK-LABEL: cpu pipeline 'tri-inv-strategy=forward-substitution'
  // CHECK-NEXT: -> success
  summarize(module);
  // CHECK: llvm.func @_mlir_ciface_inv(: yes
  mlirModuleDestroy(module);

  // The upstream C API's pass manager finds the pipeline that
  // mlirDeltaNetRegisterPipelines registered: both libraries use the one
  // registry of libMLIR.so.
  module = parse(ctx, kTriInv);
  {
    MlirPassManager pm = mlirPassManagerCreate(ctx);
    MlirLogicalResult parsed = mlirParsePassPipeline(
        mlirPassManagerGetAsOpPassManager(pm),
        mlirStringRefCreateFromCString(
            "builtin.module(deltanet-cpu-pipeline{tri-inv-strategy=neumann})"),
        printToStdout, NULL);
    printf("upstream pass manager: parsed %d",
           mlirLogicalResultIsSuccess(parsed));
    MlirLogicalResult ran =
        mlirPassManagerRunOnOp(pm, mlirModuleGetOperation(module));
    printf(", ran %d\n", mlirLogicalResultIsSuccess(ran));
    mlirPassManagerDestroy(pm);
  }
  summarize(module);
  // CHECK-LABEL: upstream pass manager: parsed 1, ran 1
  // CHECK-NEXT: deltanet.tri_inv: no
  // CHECK-NEXT: linalg.batch_matmul: no
  // CHECK-NEXT: llvm.func @inv(: yes
  mlirModuleDestroy(module);

  // Upstream type and attribute queries: isa<> on interfaces (ShapedType,
  // ElementsAttr) compares TypeIDs across libDeltaNetMLIRCAPI.so and
  // libMLIR.so, so a duplicated TypeID would answer 0 here.
  {
    MlirType tensor = mlirTypeParseGet(
        ctx, mlirStringRefCreateFromCString("tensor<4x32x32xf32>"));
    MlirAttribute dense = mlirAttributeParseGet(
        ctx, mlirStringRefCreateFromCString("dense<1.5> : tensor<2xf32>"));
    printf("types: ranked tensor %d, shaped %d, dim 1 = %lld, f32 %d\n",
           mlirTypeIsARankedTensor(tensor), mlirTypeIsAShaped(tensor),
           (long long)mlirShapedTypeGetDimSize(tensor, 1),
           mlirTypeIsAF32(mlirShapedTypeGetElementType(tensor)));
    printf("attributes: elements %d, dense fp %d, splat %g\n",
           mlirAttributeIsAElements(dense),
           mlirAttributeIsADenseFPElements(dense),
           (double)mlirDenseElementsAttrGetFloatSplatValue(dense));
    MlirStringRef func =
        mlirDialectHandleGetNamespace(mlirGetDialectHandle__func__());
    printf("upstream dialect handle: %.*s\n", (int)func.length, func.data);
  }
  // CHECK: types: ranked tensor 1, shaped 1, dim 1 = 32, f32 1
  // CHECK: attributes: elements 1, dense fp 1, splat 1.5
  // CHECK: upstream dialect handle: func

  // Errors: unknown option value, unknown option, unknown pass, a pass
  // failure with its location.
  module = parse(ctx, kTriInv);
  runCpuPipeline(module, "tri-inv-strategy=bogus");
  // (LLVM's option parser prints the reason to stderr.)
  // CHECK-LABEL: cpu pipeline 'tri-inv-strategy=bogus'
  // CHECK: invalid --deltanet-cpu-pipeline options 'tri-inv-strategy=bogus'
  // CHECK-NEXT: -> failure
  runCpuPipeline(module, "tri-inv-no-such-option=1");
  // CHECK-LABEL: cpu pipeline 'tri-inv-no-such-option=1'
  // CHECK: tri-inv-no-such-option
  // CHECK: -> failure
  {
    printf("target pipeline 'nope'\n");
    MlirLogicalResult result = mlirDeltaNetRunTargetPipeline(
        mlirModuleGetOperation(module), mlirStringRefCreateFromCString("nope"),
        mlirStringRefCreateFromCString(""), printToStdout, NULL);
    printf("\n-> %s\n",
           mlirLogicalResultIsSuccess(result) ? "success" : "failure");
  }
  // CHECK-LABEL: target pipeline 'nope'
  // CHECK: unknown target 'nope' (targets with a pipeline: cpu, gpu)
  // CHECK: -> failure
  runPipeline(module, "no-such-pass");
  // CHECK-LABEL: run 'no-such-pass'
  // CHECK: no-such-pass
  // CHECK: -> failure
  // (deltanet-cpu-pipeline under func.func would abort in buildCpuPipeline.)
  runPipeline(module, "func.func(canonicalize, deltanet-cpu-pipeline{"
                      "tri-inv-order=2})");
  // CHECK-LABEL: run 'func.func(canonicalize, deltanet-cpu-pipeline{
  // CHECK-NEXT: deltanet-cpu-pipeline must be anchored on builtin.module, not on 'func.func'
  // CHECK-NEXT: -> failure
  runPipeline(module, "deltanet-lower-tri-inv{block-size=7}");
  // CHECK-LABEL: run 'deltanet-lower-tri-inv{block-size=7}'
  // CHECK: block-size=7
  // CHECK: -> failure
  mlirModuleDestroy(module);

  // A parse error reaches the context's diagnostic handler.
  module = parse(ctx, "func.func @f(%a: tensor<4x8x8xf32>) {\n"
                      "  %x = deltanet.tri_inv %a : tensor<4x8x9xf32>\n"
                      "}\n");
  printf("parse failed: %d\n", mlirModuleIsNull(module));
  // CHECK: diagnostic: use of value '%a' expects different type than prior uses
  // CHECK: parse failed: 1

  printf("options: ");
  mlirDeltaNetPrintCpuPipelineOptions(printToStdout, NULL);
  printf("\n");
  // CHECK: options:
  // {{.*}}tri-inv-block-size={{[0-9]+}}{{.*}}tri-inv-strategy=blocked
  printf("target options: ");
  mlirDeltaNetPrintTargetPipelineOptions(mlirStringRefCreateFromCString("cpu"),
                                         printToStdout, NULL);
  printf("\n");
  // CHECK: target options:
  // {{.*}}tri-inv-batch-tile=-1{{.*}}tri-inv-strategy=blocked

  mlirContextDetachDiagnosticHandler(ctx, diagHandler);
  mlirContextDestroy(ctx);
  printf("done\n");
  // CHECK: done
  return 0;
}
