// LSPTypes: placeholder until the module lands.
enum LSPTypesPlaceholder {}
