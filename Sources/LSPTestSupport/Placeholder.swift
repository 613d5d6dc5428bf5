// LSPTestSupport: placeholder until the module lands.
enum LSPTestSupportPlaceholder {}
