# What `cmake --install build --prefix P` puts under P (included by the top-level
# CMakeLists.txt after the modules):
#
#   lib/libattnpaths_{kernels,network,data,solver,sampler,trainer,curvature,propagation}.a   static libraries (PIC)
#   include/attnpaths/<module>/*.h                             public headers
#   bin/attnpaths                                              the command line
#   lib/cmake/attnpaths/attnpaths{Config,ConfigVersion,Targets}.cmake
#                                                              find_package(attnpaths CONFIG)
#   lib/pkgconfig/attnpaths.pc                                 pkg-config --cflags --libs attnpaths
#   lib/python3.X/site-packages/attnpaths*.so, attnpaths.pyi   the Python module and its stubs
#   share/doc/attnpaths/{LICENSE,CITATION.cff,README.md}
#
# The headers include each other as "kernels/x.h", "solver/y.h"; installed
# targets therefore carry both include/ (for <attnpaths/solver/solve.h>) and
# include/attnpaths (for those internal includes). A new library module adds
# its name to attnpaths_library_modules below (in link order, the lowest first);
# its headers are installed with it.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(attnpaths_library_modules parallel kernels network data solver sampler study trainer curvature propagation)
set(ATTNPATHS_INSTALL_CMAKEDIR "${CMAKE_INSTALL_LIBDIR}/cmake/attnpaths" CACHE STRING
    "Where the CMake package files are installed (relative to the prefix)")

# In the build tree, <attnpaths/solver/solve.h> works too (add_subdirectory users).
file(MAKE_DIRECTORY "${PROJECT_BINARY_DIR}/include")
if(NOT EXISTS "${PROJECT_BINARY_DIR}/include/attnpaths")
  file(CREATE_LINK "${PROJECT_SOURCE_DIR}" "${PROJECT_BINARY_DIR}/include/attnpaths" SYMBOLIC)
endif()

set(attnpaths_library_targets)
foreach(module ${attnpaths_library_modules})
  set(target attnpaths_${module})
  file(GLOB headers CONFIGURE_DEPENDS "${PROJECT_SOURCE_DIR}/${module}/*.h")
  target_sources(${target} PUBLIC FILE_SET HEADERS BASE_DIRS "${PROJECT_SOURCE_DIR}"
                 FILES ${headers})
  target_include_directories(${target} PUBLIC
    "$<BUILD_INTERFACE:${PROJECT_BINARY_DIR}/include>"
    "$<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>"
    "$<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}/attnpaths>")
  # Position-independent, so that shared objects (the Python module, a
  # consumer's plugin) can link the static libraries.
  set_target_properties(${target} PROPERTIES EXPORT_NAME ${module}
                                             POSITION_INDEPENDENT_CODE ON)
  list(APPEND attnpaths_library_targets ${target})
endforeach()
# Code that uses the headers must be compiled for the same instruction set
# (Eigen's alignment); a portable build adds nothing.
target_compile_options(attnpaths_kernels INTERFACE ${ATTNPATHS_ARCH_FLAGS})

install(TARGETS ${attnpaths_library_targets} EXPORT attnpathsTargets
  ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}"
  FILE_SET HEADERS DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}/attnpaths")
install(TARGETS attnpaths RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}")
# Installed executables keep the run paths of libraries outside the system's.
set_target_properties(attnpaths PROPERTIES INSTALL_RPATH_USE_LINK_PATH TRUE)
if(TARGET attnpaths_python)
  set(ATTNPATHS_PYTHON_INSTALL_DIR
      "${CMAKE_INSTALL_LIBDIR}/python${Python3_VERSION_MAJOR}.${Python3_VERSION_MINOR}/site-packages"
      CACHE STRING "Where the Python module is installed (relative to the prefix)")
  set_target_properties(attnpaths_python PROPERTIES INSTALL_RPATH_USE_LINK_PATH TRUE)
  install(TARGETS attnpaths_python LIBRARY DESTINATION "${ATTNPATHS_PYTHON_INSTALL_DIR}")
  install(FILES python/attnpaths.pyi DESTINATION "${ATTNPATHS_PYTHON_INSTALL_DIR}")
endif()
install(EXPORT attnpathsTargets NAMESPACE attnpaths::
        DESTINATION "${ATTNPATHS_INSTALL_CMAKEDIR}")

configure_package_config_file(cmake/attnpathsConfig.cmake.in
  "${PROJECT_BINARY_DIR}/attnpathsConfig.cmake"
  INSTALL_DESTINATION "${ATTNPATHS_INSTALL_CMAKEDIR}")
# 0.x: a new minor version may change the interface.
write_basic_package_version_file("${PROJECT_BINARY_DIR}/attnpathsConfigVersion.cmake"
  COMPATIBILITY SameMinorVersion)
install(FILES "${PROJECT_BINARY_DIR}/attnpathsConfig.cmake"
              "${PROJECT_BINARY_DIR}/attnpathsConfigVersion.cmake"
        DESTINATION "${ATTNPATHS_INSTALL_CMAKEDIR}")

# pkg-config: the prefix is found relative to the .pc file, so `--prefix P`
# at install time works. Only static libraries are installed, so every
# dependency is on the Libs line (the libraries CMake found here; Ceres as
# -lceres, the shared library beside the static one on Debian).
file(RELATIVE_PATH attnpaths_pc_to_prefix "/prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/prefix")
set(ATTNPATHS_PC_PREFIX "\${pcfiledir}/${attnpaths_pc_to_prefix}")
string(REGEX REPLACE "/$" "" ATTNPATHS_PC_PREFIX "${ATTNPATHS_PC_PREFIX}")
set(attnpaths_pc_libs -lceres "$<TARGET_LINKER_FILE:hdf5::hdf5>"
    "$<TARGET_LINKER_FILE:tomlplusplus::tomlplusplus>" ${LAPACK_LIBRARIES} ${BLAS_LIBRARIES})
if(ATTNPATHS_HAVE_MPI)
  list(APPEND attnpaths_pc_libs ${MPI_CXX_LIBRARIES})
endif()
list(REMOVE_DUPLICATES attnpaths_pc_libs)
# The modules, highest first (a static library before the ones it uses).
set(ATTNPATHS_PC_MODULE_LIBS)
foreach(module ${attnpaths_library_modules})
  set(ATTNPATHS_PC_MODULE_LIBS "-lattnpaths_${module} ${ATTNPATHS_PC_MODULE_LIBS}")
endforeach()
string(STRIP "${ATTNPATHS_PC_MODULE_LIBS}" ATTNPATHS_PC_MODULE_LIBS)
list(JOIN attnpaths_pc_libs " " ATTNPATHS_PC_LIBS)
string(APPEND ATTNPATHS_PC_LIBS " -pthread")
list(JOIN ATTNPATHS_ARCH_FLAGS " " ATTNPATHS_PC_CFLAGS)
foreach(dir ${Boost_INCLUDE_DIRS})
  if(NOT dir STREQUAL "/usr/include")
    string(APPEND ATTNPATHS_PC_CFLAGS " -I${dir}")
  endif()
endforeach()
configure_file(cmake/attnpaths.pc.in "${PROJECT_BINARY_DIR}/attnpaths.pc.in" @ONLY)
file(GENERATE OUTPUT "${PROJECT_BINARY_DIR}/attnpaths.pc"
     INPUT "${PROJECT_BINARY_DIR}/attnpaths.pc.in")
install(FILES "${PROJECT_BINARY_DIR}/attnpaths.pc"
        DESTINATION "${CMAKE_INSTALL_LIBDIR}/pkgconfig")

install(FILES LICENSE CITATION.cff README.md DESTINATION "${CMAKE_INSTALL_DOCDIR}")
