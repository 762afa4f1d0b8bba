// CBLAS: the system OpenBLAS (Debian's libopenblas-dev) seen from Swift.
// It exists so that the kernels can call cblas_sgemm without a C wrapper of their own.
#include <cblas.h>
char *openblas_get_corename(void);
char *openblas_get_config(void);
void openblas_set_num_threads(int);
int openblas_get_num_threads(void);
