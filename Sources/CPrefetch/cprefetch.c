// CPrefetch is a header-only module (include/cprefetch.h); SwiftPM needs one source file in a C target.
#include "cprefetch.h"
