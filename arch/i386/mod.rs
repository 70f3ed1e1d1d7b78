// The i386 backend is not written yet (issue "i386 backend"); refuse to build rather than
// produce a library without a thunk.
compile_error!("ptcancel: the i386 backend is not implemented yet");
