// Placeholder; tests land with the module.
