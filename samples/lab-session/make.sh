#!/bin/sh
# Make the sample recording: 30 s of 640x360 test picture at 30 fps (H.264, a keyframe every second) and
# a 440 Hz tone (AAC), as an MP4 with the moov at the end, the way cameras write them.
set -e
out="${1:-recording.mp4}"
ffmpeg -v error -y \
  -f lavfi -i "testsrc2=size=640x360:rate=30:duration=30" \
  -f lavfi -i "sine=frequency=440:sample_rate=48000:duration=30" \
  -c:v libx264 -preset veryfast -g 30 -pix_fmt yuv420p -c:a aac -b:a 96k "$out"
