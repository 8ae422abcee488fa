// Filled in by the matrix work; kept as a module so the package index stays stable.
export {};
