// JSON: placeholder until the module lands.
enum JSONPlaceholder {}
