#include <Python.h>

static struct PyModuleDef mod = {PyModuleDef_HEAD_INIT, "cext", NULL, -1, NULL};

PyMODINIT_FUNC PyInit_cext(void) { return PyModule_Create(&mod); }
