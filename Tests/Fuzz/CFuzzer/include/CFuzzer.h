#ifndef CODEGEN_LSP_CFUZZER_H
#define CODEGEN_LSP_CFUZZER_H
#include <stddef.h>
#include <stdint.h>

/// libFuzzer's driver (compiler-rt, LLVM 11 and later), for a program that has its own main: runs the fuzzing
/// loop with libFuzzer's command line on `callback`.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

#endif
