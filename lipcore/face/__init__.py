"""Face detection, landmarks and tracks.

Modules:
    types: shared dataclasses (FaceDetection, FaceTrack, TrackSet).
    landmarks: FaceMesh index constants, lip gap, mouth descriptor, lower-face polygon.
    mesh: MeshLandmarker, 478-point MediaPipe FaceMesh on a crop around a face box.
    detect: detector backends (MediaPipe default; ``make_detector``), NMS and tiling helpers.
    insightface: SCRFD + ArcFace ONNX models run through onnxruntime (no insightface package).
    shots: shot-cut detection.
    smooth: centred Savitzky-Golay smoothing, reset at gaps and cuts.
    identity: appearance descriptor used to link tracks when no ArcFace model is present.
    track: ``iter_track_faces`` / ``track_faces`` with the on-disk cache.
    select: ``choose_track`` for a FaceChoice.
    store: TrackSet <-> .npz.
    sheet: contact sheet of track thumbnails.
"""
