"""The wheel carries libengine.so (x86-64 Linux machine code), so it is a platform wheel, py3-none-linux_x86_64:
the library does not link against Python, so any Python 3 on that platform can load it."""
from setuptools import setup
from setuptools.dist import Distribution


class BinaryDistribution(Distribution):
    def has_ext_modules(self):
        return True  # files go to the wheel's root (platlib) and the wheel is not "pure"


commands = {}
try:
    from wheel.bdist_wheel import bdist_wheel

    class PlatformWheel(bdist_wheel):
        def get_tag(self):
            _, _, platform = super().get_tag()
            return "py3", "none", platform

    commands["bdist_wheel"] = PlatformWheel
except ImportError:  # an sdist needs no wheel package
    pass

setup(distclass=BinaryDistribution, cmdclass=commands)
