console.log("side-kernel demo: nothing to show yet");
