// LLVMFuzzerRunDriver is defined by libFuzzer's runtime (-sanitize=fuzzer); this target only declares it.
#include "CFuzzer.h"
