// CompletionServer: placeholder until the module lands.
enum CompletionServerPlaceholder {}
