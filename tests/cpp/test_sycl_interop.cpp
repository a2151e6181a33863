// dpcore/dpcore.hpp and dpcore/sycl.hpp: RAII wrappers and SYCL interop,
// compiled with g++ and the SYCL headers (host code only) and run against
// the real runtime. Built and run by scripts/run-c.sh.
#include <complex>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "dpcore/sycl.hpp"

static int failures = 0, checks = 0;
#define CHECK(c)                                                                        \
    do {                                                                                \
        ++checks;                                                                       \
        if (!(c)) {                                                                     \
            ++failures;                                                                 \
            std::fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #c); \
        }                                                                               \
    } while (0)

static_assert(dpcore::same_dtype(dpcore::dtype_of<float>(), dpc_dlpack_dtype{DPC_DL_FLOAT, 32, 1}), "");
static_assert(dpcore::same_dtype(dpcore::dtype_of<std::complex<double>>(), dpc_dlpack_dtype{DPC_DL_COMPLEX, 128, 1}), "");
static_assert(dpcore::same_dtype(dpcore::dtype_of<uint16_t>(), dpc_dlpack_dtype{DPC_DL_UINT, 16, 1}), "");
static_assert(dpcore::same_dtype(dpcore::dtype_of<int64_t>(), dpc_dlpack_dtype{DPC_DL_INT, 64, 1}), "");
static_assert(dpcore::same_dtype(dpcore::dtype_of<bool>(), dpc_dlpack_dtype{DPC_DL_BOOL, 8, 1}), "");

int main() {
    std::size_t n = 0;
    if (dpc_device_count(&n) != DPC_SUCCESS || n == 0) {
        // No device is a failure, not a skip: nothing below could run.
        std::fprintf(stderr,
                     "test_sycl_interop: FAIL: dpcore finds no device (source scripts/env.sh; check "
                     "ONEAPI_DEVICE_SELECTOR and DPCORE_SYCL_PLUGIN)\n");
        return 1;
    }
    dpcore::check_sycl_runtime();  // throws if the plugin's libsycl major differs
    CHECK(dpcore::sycl_runtime_mismatch(__LIBSYCL_MAJOR_VERSION).empty());
    std::string mismatch = dpcore::sycl_runtime_mismatch(__LIBSYCL_MAJOR_VERSION + 1);
    CHECK(mismatch.find("libsycl.so." + std::to_string(__LIBSYCL_MAJOR_VERSION + 1)) != std::string::npos);
    CHECK(mismatch.find("but dpcore's plugin uses libsycl.so." + std::to_string(__LIBSYCL_MAJOR_VERSION)) !=
          std::string::npos);

    // Queues both ways.
    dpcore::device dev = dpcore::device::default_device();
    dpcore::queue q = dpcore::queue::default_for(dev);
    sycl::queue &sq = dpcore::sycl_queue(q);
    CHECK(sq.is_in_order());
    CHECK(sq.get_device() == dpcore::sycl_device(dev));
    CHECK(sq.get_context() == dpcore::sycl_context(q.get_context()));
    CHECK(sq.get_context() == sq.get_device().get_platform().khr_get_default_context());
    dpcore::queue same = dpcore::from_sycl(sq);
    CHECK(same == q);
    sycl::queue mine(sq.get_context(), sq.get_device());
    dpcore::queue adopted = dpcore::from_sycl(mine);
    CHECK(adopted != q && !adopted.in_order());
    CHECK(adopted.get_context() == q.get_context());
    CHECK(&dpcore::sycl_queue(adopted) != &mine && dpcore::sycl_queue(adopted) == mine);

    // Devices and contexts.
    CHECK(dpcore::from_sycl(sq.get_device()) == dev);
    CHECK(dpcore::from_sycl(sq.get_context()) == q.get_context());
    sycl::context own_ctx(sq.get_device());
    dpcore::context c2 = dpcore::from_sycl(own_ctx);
    CHECK(c2 != q.get_context() && dpcore::sycl_context(c2) == own_ctx);

    // Arrays made by dpcore, used through SYCL, and events both ways.
    std::vector<float> host{1, 2, 3, 4, 5, 6};
    dpcore::array a = dpcore::array::from_host(q, host.data(), {2, 3});
    CHECK(a.ndim() == 2 && a.shape()[1] == 3 && a.is_type<float>() && a.c_contiguous() && a.writable());
    float *d = a.data<float>();
    std::vector<float> back(6, 0.f);
    sycl::event e = mine.memcpy(back.data(), d, sizeof(float) * 6);
    dpcore::event de = dpcore::from_sycl(e);
    de.wait();
    CHECK(std::memcmp(back.data(), host.data(), sizeof(float) * 6) == 0);
    dpcore::event bar = q.barrier({de});
    dpcore::sycl_event(bar).wait();
    // keep_alive_until a foreign event: the array survives the wrapper.
    {
        dpcore::array tmp = dpcore::array::zeros(q, dpcore::dtype_of<double>(), {1000});
        sycl::event fill = mine.fill(tmp.data<double>(), 2.5, 1000);
        tmp.keep_alive_until({dpcore::from_sycl(fill)});
    }
    CHECK(dpc_usm_wait_deferred_frees() == DPC_SUCCESS);

    // Errors carry dpcore's status and message.
    bool threw = false;
    try {
        (void)a.data<double>();
    } catch (const dpcore::error &err) {
        threw = err.status() == DPC_ERROR_INVALID_ARGUMENT && std::strstr(err.what(), "float32") != nullptr;
    }
    CHECK(threw);
    threw = false;
    try {
        dpcore::device::select("level_zero:gpu:9");
    } catch (const dpcore::error &err) {
        // The message lists the devices that exist (the default one among them).
        threw = err.status() == DPC_ERROR_DEVICE_NOT_FOUND &&
                std::strstr(err.what(), dev.filter_string().c_str()) != nullptr;
    }
    CHECK(threw);
    // Compute follows data.
    dpcore::array b = dpcore::array::zeros(q, dpcore::dtype_of<float>(), {2, 3});
    CHECK(dpcore::common_queue({a, b}) == q);
    b.assign(a);
    std::vector<float> bb(6);
    b.to_host(bb.data());
    CHECK(bb == host);

    std::printf("test_sycl_interop: %d checks, %d failed\n", checks, failures);
    return failures ? 1 : 0;
}
